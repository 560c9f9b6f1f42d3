"""The loopback gateway on its own: the simulated world, the gRPC wire as the client sees it, the control API."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from grpclib.client import Channel
from grpclib.const import Status
from grpclib.exceptions import GRPCError
from wechaty_grpc.wechaty import PuppetStub
from wechaty_grpc.wechaty import puppet as pb

from gateway.server import Gateway, free_port
from gateway.world import BOT_ID, WireKind, World, resident_id
from settings.models import Settings

REPO = Path(__file__).resolve().parent.parent
G1 = "1-3号楼业主群"


def test_the_world_has_the_configured_rooms_cadres_and_the_bot(settings: Settings) -> None:
    world = World(settings)
    assert [r.topic for r in world.rooms.values()] == [g.name for g in settings.groups]
    room = world.room(G1)
    assert room is not None and BOT_ID in room.member_ids and "wxid_wangfang" in room.member_ids
    assert world.person("王芳").id == "wxid_wangfang"


def test_mentions_are_found_by_member_name_and_the_resident_joins_the_room(settings: Settings) -> None:
    world = World(settings)
    message = world.inject(sender="张阿姨", text="@回音 @王芳\u2005看看 @不存在 @王芳芳", room=G1, now=_now())
    assert message.mention_ids == (BOT_ID, "wxid_wangfang")
    assert resident_id("张阿姨") in world.room(G1).member_ids
    assert message.from_id == resident_id("张阿姨") and message.to_id == ""


def test_message_ids_stay_unique_across_a_restart(settings: Settings) -> None:
    world = World(settings)
    first = world.inject(sender="张阿姨", text="a", room=G1, now=_now())
    again = world.restarted()
    second = again.inject(sender="张阿姨", text="a", room=G1, now=_now())
    assert first.id != second.id and again.contacts == world.contacts and not again.sent


def test_the_wire_is_what_the_wechaty_client_expects(settings: Settings) -> None:
    async def scenario() -> None:
        gateway = Gateway(settings, control_port=None, heartbeat_seconds=0.05)
        await gateway.start()
        channel = Channel("127.0.0.1", gateway.port)
        stub = PuppetStub(channel)
        try:
            await stub.start()
            events = stub.event()
            assert (await events.__anext__()).type == pb.EventType.EVENT_TYPE_LOGIN
            assert json.loads((await events.__anext__()).payload) == {"data": "ready"}
            text = gateway.inject("张阿姨", "@回音 3号楼停水了", room=G1)
            image = gateway.inject("张阿姨", "", room=G1, kind=WireKind.IMAGE)
            kinds = []
            async for event in events:
                kinds.append(event.type)
                if kinds.count(pb.EventType.EVENT_TYPE_MESSAGE) == 2 and pb.EventType.EVENT_TYPE_HEARTBEAT in kinds:
                    break
            payload = await stub.message_payload(id=text.id)
            # 7 is TEXT in the TypeScript enum the client remaps from; the proto's TEXT (6) would read as an image
            assert (payload.type, payload.mention_ids, payload.room_id) == (7, [BOT_ID], gateway.world.room(G1).id)
            assert (await stub.message_payload(id=image.id)).type == 6
            room_id = gateway.world.room(G1).id
            sent = await stub.message_send_text(
                conversation_id=room_id, text="@张阿姨 收到", mentonal_ids=[resident_id("张阿姨")]
            )
            loaded = await stub.message_payload(id=sent.id)
            assert (loaded.from_id, loaded.text) == (BOT_ID, "@张阿姨 收到")
            [record] = gateway.world.sent
            assert (record.room_topic, record.mention_names) == (G1, ("张阿姨",))
            await stub.ding(data="probe")
            assert gateway.service.dings == 1
            topics = [(await stub.room_payload(id=i)).topic for i in (await stub.room_list()).ids]
            assert topics == [g.name for g in settings.groups]
            assert (await stub.contact_payload(id="wxid_wangfang")).name == "王芳"
            member = await stub.room_member_payload(id=room_id, member_id=resident_id("张阿姨"))
            assert member.name == "张阿姨"
        finally:
            channel.close()
            await gateway.stop()

    asyncio.run(asyncio.wait_for(scenario(), 30))


def test_a_photo_is_fetched_and_sent_back_as_a_forward_until_it_expires(settings: Settings) -> None:
    """What python-wechaty's forward calls: MessageImage / MessageFile give the media as a base64 FileBox, and
    MessageSendFile of it is recorded in the destination room as a forward of the original; an expired photo is
    NOT_FOUND."""

    async def scenario() -> None:
        gateway = Gateway(settings, control_port=None)
        await gateway.start()
        channel = Channel("127.0.0.1", gateway.port)
        stub = PuppetStub(channel)
        try:
            photo = gateway.inject("张阿姨", "", room=G1, kind=WireKind.IMAGE)
            video = gateway.inject("张阿姨", "", room=G1, kind=WireKind.VIDEO)
            image_box = (await stub.message_image(id=photo.id, type=pb.ImageType.IMAGE_TYPE_ARTWORK)).filebox
            assert json.loads(image_box)["name"] == f"{photo.id}.jpg"
            video_box = (await stub.message_file(id=video.id)).filebox
            unit_room = gateway.world.room("幸福里物业维修群").id
            for box in (image_box, video_box):
                sent = await stub.message_send_file(conversation_id=unit_room, filebox=box)
                assert (await stub.message_payload(id=sent.id)).from_id == BOT_ID
            forwarded = [(s.room_topic, s.kind, s.forwarded_from) for s in gateway.world.sent]
            assert forwarded == [
                ("幸福里物业维修群", WireKind.IMAGE, photo.id), ("幸福里物业维修群", WireKind.VIDEO, video.id),
            ]  # fmt: skip
            gateway.world.expired.add(photo.id)
            with pytest.raises(GRPCError) as expired:
                await stub.message_image(id=photo.id, type=pb.ImageType.IMAGE_TYPE_ARTWORK)
            assert expired.value.status is Status.NOT_FOUND
            with pytest.raises(GRPCError) as stranger:
                await stub.message_send_file(conversation_id="nobody", filebox=video_box)
            assert stranger.value.status is Status.FAILED_PRECONDITION
        finally:
            channel.close()
            await gateway.stop()

    asyncio.run(asyncio.wait_for(scenario(), 30))


def test_the_gateway_command_serves_the_control_api(tmp_path: Path) -> None:
    grpc_port, control_port = free_port(), free_port()
    command = [
        sys.executable,
        "-m",
        "bot.cli",
        "--env-file",
        str(tmp_path / "none.env"),
        "gateway",
        "--port",
        str(grpc_port),
        "--control-port",
        str(control_port),
        "--community",
        str(REPO / "config.yaml"),
    ]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{control_port}"
    try:
        rooms = _wait_for_json(f"{base}/rooms")
        assert [r["topic"] for r in rooms["rooms"]][:2] == [G1, "4-6号楼业主群"]
        posted = _post(f"{base}/messages", {"sender": "张阿姨", "text": "@王芳 3号楼停水了", "room": G1})
        assert posted["mention_ids"] == ["wxid_wangfang"]
        assert _get(f"{base}/sent?after=0")["sent"] == []
        assert _get(f"{base}/health") == {"streams": 0, "dings": 0}
        with pytest.raises(urllib.error.HTTPError) as refused:
            _post(f"{base}/messages", {"sender": "张阿姨", "text": "x", "room": "没有这个群"})
        assert refused.value.code == 400
    finally:
        process.terminate()
        process.communicate(timeout=10)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def _post(url: str, body: dict) -> dict:
    data = json.dumps(body).encode("utf-8")
    request = urllib.request.Request(url, data=data, method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def _wait_for_json(url: str, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return _get(url)
        except (urllib.error.URLError, ConnectionError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
