"""Message streams with a schema: a type name and a hash of the type's fields stored in the
stream's segment, described from pydantic models, dataclasses and msgspec-style Structs; a
reader of another schema is refused at attach, in this process, in another one and in C++."""

from __future__ import annotations

import dataclasses
import subprocess
from typing import List, Optional

import pydantic
import pytest

import shmkit
from conftest import NO_HANG, run_python


class Status(pydantic.BaseModel):
    gain: float
    cam_on: bool


# The hash of "gain:float,cam_on:bool", also pinned by the C++ tests (fields_hash()).
STATUS_FIELDS_HASH = 0x2E4C9E8604D92643


@dataclasses.dataclass
class Point:
    x: int
    y: int


@dataclasses.dataclass
class Track:
    points: List[Point]
    origin: Point
    label: Optional[str] = None


class Reading:
    """A msgspec-style Struct: the fields in __struct_fields__, built by keyword."""

    __struct_fields__ = ("sensor", "value")
    sensor: str
    value: float

    def __init__(self, sensor: str, value: float) -> None:
        self.sensor, self.value = sensor, value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Reading) and (self.sensor, self.value) == (other.sensor, other.value)


def messages(name, schema, **kwargs):
    return shmkit.StreamWriter.create(name, max_bytes=512, slots=8, schema=schema, **kwargs)


# ---- describing message classes ----------------------------------------------------------------


def test_schema_of_a_pydantic_model():
    s = shmkit.Schema.of(Status)
    assert (s.name, s.fields, s.model) == ("Status", "gain:float,cam_on:bool", Status)
    assert s.hash == shmkit.fields_hash("gain:float,cam_on:bool") == STATUS_FIELDS_HASH
    assert s == shmkit.Schema("Status", STATUS_FIELDS_HASH)  # name and hash make a schema
    assert shmkit.Schema.of(s) is s


def test_schema_of_nested_and_optional_fields():
    assert shmkit.Schema.of(Track).fields == \
        "points:list[Point{x:int,y:int}],origin:Point{x:int,y:int},label:Union[str,None]"
    assert shmkit.Schema.of(Reading).fields == "sensor:str,value:float"

    class Typed(pydantic.BaseModel):
        when: Optional[int]
        tags: List[str]
        where: Point

    assert shmkit.Schema.of(Typed).fields == "when:Union[int,None],tags:list[str],where:Point{x:int,y:int}"


def test_changing_a_field_changes_the_hash():
    class Renamed(pydantic.BaseModel):
        gain: float
        camera_on: bool

    class Retyped(pydantic.BaseModel):
        gain: int
        cam_on: bool

    class Longer(pydantic.BaseModel):
        gain: float
        cam_on: bool
        exposure: float

    hashes = {shmkit.Schema.of(m).hash for m in (Status, Renamed, Retyped, Longer)}
    assert len(hashes) == 4


def test_schemas_a_stream_cannot_hold_are_refused():
    for bad in ("", "x" * 40, "a\0b"):
        with pytest.raises(shmkit.InvalidArgument):
            shmkit.Schema(bad, 1)
    with pytest.raises(shmkit.InvalidArgument):
        shmkit.Schema("Status", 2 ** 64)
    with pytest.raises(TypeError):
        shmkit.Schema.of(int)

    class AMessageTypeWhoseNameIsLongerThanAStreamHolds(pydantic.BaseModel):
        a: int

    with pytest.raises(shmkit.InvalidArgument):
        shmkit.Schema.of(AMessageTypeWhoseNameIsLongerThanAStreamHolds)
    short = shmkit.Schema.of(AMessageTypeWhoseNameIsLongerThanAStreamHolds, name="LongMessage")
    assert short.name == "LongMessage" and short.fields == "a:int"


# ---- message streams -------------------------------------------------------------------------


def test_pydantic_messages_round_trip_with_their_schema(name):
    with messages(name, Status) as w, shmkit.StreamReader.open(name, schema=Status) as r:
        assert w.dtype == "bytes" and w.schema == shmkit.Schema.of(Status) and w.schema.model is Status
        assert r.schema == w.schema and r.schema.model is Status
        w.write_obj(Status(gain=1.5, cam_on=True))
        got = r.next_obj(NO_HANG)
        assert isinstance(got, Status) and got == Status(gain=1.5, cam_on=True)
        assert r.latest_obj() == got
        with pytest.raises(TypeError, match="expected a Status"):
            w.write_obj({"gain": 1.5, "cam_on": True})
        # A reader that names no schema sees the stored one, and plain values.
        with shmkit.StreamReader.open(name, from_newest=True) as plain:
            assert plain.schema == shmkit.Schema("Status", STATUS_FIELDS_HASH) and plain.schema.model is None
            assert plain.next_obj(NO_HANG) == {"gain": 1.5, "cam_on": True}
        assert shmkit.info(name)["schema"] == "Status"
        assert shmkit.info(name)["schema_hash"] == STATUS_FIELDS_HASH


def test_dataclass_and_struct_messages_are_built_back(name):
    track = Track(points=[Point(1, 2), Point(3, 4)], origin=Point(0, 0), label="t")
    with messages(name, Track) as w, shmkit.StreamReader.open(name, schema=Track) as r:
        w.write_obj(track)
        assert r.next_obj(NO_HANG) == track
    with messages(name + "-s", Reading) as w, shmkit.StreamReader.open(name + "-s", schema=Reading) as r:
        w.write_obj(Reading("t0", 21.5))
        assert r.next_obj(NO_HANG) == Reading("t0", 21.5)


def test_a_reader_of_another_schema_is_refused_at_attach(name):
    class Changed(pydantic.BaseModel):  # same name, another field
        gain: float
        cam_on: bool
        exposure: float

    Changed.__name__ = "Status"
    with messages(name, Status), messages(name + "-plain", None, dtype="bytes"):
        for other in (Changed, Point, shmkit.Schema("Status", STATUS_FIELDS_HASH + 1)):
            with pytest.raises(shmkit.SchemaMismatch) as e:
                shmkit.StreamReader.open(name, schema=other)
            assert isinstance(e.value, shmkit.WrongKind) and isinstance(e.value, TypeError)
            assert e.value.code == "schema_mismatch" and name in str(e.value)
        with pytest.raises(shmkit.SchemaMismatch):
            shmkit.StreamReader.open(name + "-plain", schema=Status)  # a stream without one


CHILD = """
import sys, pydantic, shmkit
class Status(pydantic.BaseModel):
    gain: float
    cam_on: bool
    {extra}
try:
    with shmkit.StreamReader.open(sys.argv[1], schema=Status, from_oldest=True) as r:
        print("read", r.next_obj(5.0))
except shmkit.SchemaMismatch as e:
    print("refused", e.code)
"""


def test_a_reader_in_another_process_is_refused_at_attach_if_its_model_differs(name):
    with messages(name, Status) as w:
        w.write_obj(Status(gain=2.0, cam_on=False))
        assert run_python(CHILD.format(extra=""), name).stdout.split() == ["read", "gain=2.0", "cam_on=False"]
        assert run_python(CHILD.format(extra="exposure: float"), name).stdout.split() == \
            ["refused", "schema_mismatch"]


# ---- with C++ (tests/xlang.cpp: the same Status, its hash from fields_hash()) ------------------


def run_peer(xlang, op, name, n=4):
    return subprocess.run([xlang, op, name, str(n)], capture_output=True, text=True, timeout=60)


def test_cpp_status_messages_to_python(name, xlang):
    proc = run_peer(xlang, "status-write", name)
    assert proc.returncode == 0, proc.stderr
    with shmkit.StreamReader.open(name, schema=Status, from_oldest=True) as r:
        assert [r.next_obj(NO_HANG) for _ in range(4)] == \
            [Status(gain=i + 0.5, cam_on=i % 2 == 1) for i in range(4)]


def test_python_status_messages_to_cpp_and_a_cpp_reader_of_another_schema(name, xlang):
    with messages(name, Status) as w:
        for i in range(4):
            w.write_obj(Status(gain=i + 0.5, cam_on=i % 2 == 1))
        proc = run_peer(xlang, "status-read", name)
        assert proc.returncode == 0, proc.stderr

    class Status2(pydantic.BaseModel):
        gain: float
        cam_on: int

    with messages(name + "-other", Status2):
        proc = run_peer(xlang, "status-read", name + "-other")
        assert proc.returncode != 0 and "schema_mismatch" in proc.stderr
