from __future__ import annotations

from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy

from apps.core.policy import allows, unwrapped


def test_allows_is_not_refusal_without_translating_it():
    assert allows("")
    assert not allows(gettext_lazy("You don't have permission to edit books."))
    assert not allows("Already published: approved by Pia 3 minutes ago.")


def test_unwrapped_is_the_object_behind_the_lazy_proxy_loaded_once():
    loads = []

    class Person:
        pk = 7

    def load():
        loads.append(1)
        return person

    person = Person()
    lazy = SimpleLazyObject(load)
    assert unwrapped(lazy) is person
    assert unwrapped(lazy) is person
    assert loads == [1]
    assert unwrapped(person) is person
