"""The id generator: 32 hex digits, never the same twice, not even across a fork."""

from __future__ import annotations

import os

from persistence.system import RandomIds


def test_ids_are_32_hex_digits_and_never_repeat_across_draws() -> None:
    ids = RandomIds()
    drawn = [ids.new_id() for _ in range(2_000)]  # several draws of 256
    assert len(set(drawn)) == len(drawn)
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in drawn)


def test_a_forked_child_never_hands_out_the_ids_its_parent_drew() -> None:
    ids = RandomIds()
    ids.new_id()  # the parent has 255 drawn and unused
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.write(write, ids.new_id().encode())
        os._exit(0)
    os.close(write)
    child = os.read(read, 64).decode()
    os.waitpid(pid, 0)
    assert child != ids.new_id()
