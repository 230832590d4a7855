"""factory_boy factories shared by the whole suite (one section per app)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import factory
from django.contrib.auth.models import Group

from herald.accounts.models import User

# Every factory-made user can log in with this password.
DEFAULT_PASSWORD = "correct-horse-battery-staple"

# --- accounts ---------------------------------------------------------------------------------------


class UserFactory(factory.django.DjangoModelFactory[User]):
    """``UserFactory.create(staff=True, groups=["editors"], password="x")`` (``.create`` is typed as User)."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    class Params:
        staff = factory.Trait(is_staff=True)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.django.Password(DEFAULT_PASSWORD)
    is_active = True

    @factory.post_generation
    def groups(self, create: bool, extracted: Iterable[str] | None, **kwargs: Any) -> None:
        if not create or not extracted:
            return
        for name in extracted:
            group, _ = Group.objects.get_or_create(name=name)
            self.groups.add(group)
