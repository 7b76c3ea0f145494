"""Wire formats: ``...In`` schemas validate what clients send, ``...Out`` schemas document
answers, ``...Query`` schemas validate query strings.

Field names are the wire names of SPEC section 2; ``data_key`` maps them to the names the use
cases take. Unknown fields in a body are refused (marshmallow's RAISE), so ``id``,
``created_at`` or ``role`` cannot be slipped into a body that does not declare them.
"""
