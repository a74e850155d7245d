"""The views both stores give of themselves: acting for a caller (an access check before each object read
or write) and writing under another encryption. A view is a shallow copy sharing the store's state."""

from __future__ import annotations

import copy
from typing import Self

from openrek.store.objects.errors import InvalidArgument
from openrek.store.objects.interface import AccessCheck
from openrek.store.objects.naming import is_internal_bucket
from openrek.store.sealed_files import DataKeys, Encryption


class StoreViews:
    """`acting_for` and `writing_as` for a store with `keys`, `default_encryption` and `_check`."""

    keys: DataKeys | None
    default_encryption: Encryption | None
    _check: AccessCheck | None = None

    def acting_for(self, check: AccessCheck | None) -> Self:
        view = copy.copy(self)
        view._check = check
        return view

    def writing_as(self, encryption: Encryption | None) -> Self:
        if encryption is None:
            return self
        self._encryption(encryption)  # a store without keys cannot
        view = copy.copy(self)  # shares the store's state (root, client, locks, caches)
        view.default_encryption = encryption
        return view

    def _permit(self, action: str, bucket: str, key: str) -> None:
        if self._check is not None and not is_internal_bucket(bucket):
            self._check(action, bucket, key)

    def _encryption(self, encryption: Encryption | None) -> Encryption | None:
        """How a write is encrypted: as it names, else the store's default; refused without keys."""
        if encryption is not None and self.keys is None:
            raise InvalidArgument("This object store keeps no encryption keys, so it cannot encrypt objects.")
        return encryption or self.default_encryption
