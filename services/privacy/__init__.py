"""Personal data encrypted per household, master key rotation, retention and erasure
(DESIGN §9, issue 6).

``keys`` (master keys from the settings), ``cipher`` (AES-GCM sealing, pure),
``household_keys`` (wrapped data keys), ``personal_store`` (the one reader and writer of
``personal_data``), ``retention`` (the policy, pure) and ``erase`` (the use cases).
"""
