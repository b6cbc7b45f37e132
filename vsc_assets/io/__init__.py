"""File handling shared by every artifact: decoding, encoding, atomic writes, manifests."""
