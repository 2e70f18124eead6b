"""The one path from task state to bytes: serializer, then envelope, then encryption.

Stores never pickle, encode or encrypt themselves; ``RecordStore`` hands them the bytes
produced here. Key rotation lives in :mod:`asyncz.serialization.rotation`.
"""

from asyncz.serialization.codec import TaskCodec, build_codec
from asyncz.serialization.keyring import ENCRYPTION_KEY_ENV, OLD_KEYS_ENV
from asyncz.serialization.serializers import JSONSerializer, PickleSerializer, Serializer

__all__ = [
    "ENCRYPTION_KEY_ENV",
    "OLD_KEYS_ENV",
    "JSONSerializer",
    "PickleSerializer",
    "Serializer",
    "TaskCodec",
    "build_codec",
]
