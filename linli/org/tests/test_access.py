from linli.org import selectors
from linli.org.access import actor_for, can


def test_staff_sees_own_community_only(world):
    actor = actor_for(world.staff_a)
    assert can(actor, "person.manage", world.pA1)
    assert not can(actor, "person.manage", world.pB1)
    names = set(selectors.people(actor).values_list("name", flat=True))
    assert names == {"王秀英", "王老伯", "李建华"}


def test_grid_worker_limited_to_grid(world):
    actor = actor_for(world.grid_worker_a1)
    assert can(actor, "person.manage", world.pA1)
    assert not can(actor, "person.manage", world.pA2)
    assert set(selectors.people(actor).values_list("id", flat=True)) == {world.pA1.id, world.pA1b.id}


def test_resident_self_only(world):
    actor = actor_for(world.resident_a1)
    assert can(actor, "person.view", world.pA1)
    assert not can(actor, "person.view", world.pA1b)
    assert list(selectors.people(actor)) == [world.pA1]
    assert can(actor, "org.view", world.A)
    assert not can(actor, "org.view", world.B)


def test_auditor_reads_but_never_writes(world):
    actor = actor_for(world.auditor_a)
    assert can(actor, "person.view", world.pA1)
    assert not can(actor, "person.manage", world.pA1)
    assert not can(actor, "person.view_private", world.pA1)


def test_unknown_action_fails_closed(world):
    assert not can(actor_for(world.street_admin), "org.manag", world.A)
