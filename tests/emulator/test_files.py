"""Files: upload (raw and by URL), status, delete, 60-day validity, the file host, limits."""

from __future__ import annotations

from typing import Any

import pytest

from tests.seeds import load

from .asgi_call import Reply, multipart
from .conftest import GOOGLE_BOT, GSMA_BOT, Emu
from .test_conformance import same_shape

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100


async def upload(emu: Emu, fields: dict[str, Any]) -> Reply:
    headers, body = multipart(fields)
    headers.update(await emu.auth())
    return await emu.client.post(f"/dotgo/rcs/bot/v1/{GSMA_BOT}/files", data=body, headers=headers)


async def test_upload_status_host_and_delete(emu: Emu) -> None:
    reply = await upload(
        emu, {"fileType": "image/png", "fileContent": ("pic.png", PNG, "image/png")}
    )
    assert reply.status == 202
    file = reply.json()["File"]
    assert file["fileSize"] == len(PNG)
    assert file["validity"] == "2024-03-01T00:00:00"  # 60 days
    assert file["fileUrl"] == f"http://127.0.0.1:8000/dotgo/cdn/{file['fileId']}/pic.png"
    hosted = await emu.client.get(file["fileUrl"].removeprefix("http://127.0.0.1:8000"))
    assert (hosted.status, hosted.body, hosted.headers["content-type"]) == (200, PNG, "image/png")
    url = f"/dotgo/rcs/bot/v1/{GSMA_BOT}/files/{file['fileId']}"
    headers = await emu.auth()
    status = await emu.client.get(url, headers=headers)
    assert status.status == 200 and status.json()["File"]["status"] == "ready"
    assert (await emu.client.delete(url, headers=headers)).status == 204
    gone = await emu.client.get(url, headers=headers)
    assert gone.status == 404
    assert gone.json() == {"status": "Error", "message": "Not found : File Id"}
    assert emu.state.file_bytes == 0


async def test_file_expires_after_60_days(emu: Emu) -> None:
    reply = await upload(emu, {"fileType": "image/png", "fileContent": ("a.png", PNG, "image/png")})
    file_id = reply.json()["File"]["fileId"]
    emu.clock.advance(60 * 86_400)
    status = await emu.client.get(
        f"/dotgo/rcs/bot/v1/{GSMA_BOT}/files/{file_id}", headers=await emu.auth()
    )
    assert status.status == 200
    same_shape(load("dotgo_gsma/file_status_response_200_expired.json"), status.json())
    assert status.json()["File"]["status"] == "expired"
    hosted = await emu.client.get(f"/dotgo/cdn/{file_id}/a.png")
    assert hosted.status == 404


async def test_until_before_60_days_wins(emu: Emu) -> None:
    reply = await upload(
        emu,
        {
            "fileType": "image/png",
            "until": "2024-01-02T00:00:00Z",
            "fileContent": ("a.png", PNG, "image/png"),
        },
    )
    assert reply.json()["File"]["validity"] == "2024-01-02T00:00:00"


async def test_url_upload_redirects(emu: Emu) -> None:
    reply = await upload(
        emu, {"fileType": "video/mp4", "fileUrl": "https://example.com/v/clip.mp4"}
    )
    assert reply.status == 202
    file = reply.json()["File"]
    assert file["fileUrl"].endswith("/clip.mp4") and file["fileSize"] == 0
    hosted = await emu.client.get(file["fileUrl"].removeprefix("http://127.0.0.1:8000"))
    assert (hosted.status, hosted.headers["location"]) == (307, "https://example.com/v/clip.mp4")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"fileContent": ("a.png", PNG, "image/png")}, "fileType is required"),
        (
            {"fileType": "text/html", "fileContent": ("a.html", b"<p>", "text/html")},
            "not a supported",
        ),
        ({"fileType": "image/png"}, "exactly one of fileContent or fileUrl"),
        (
            {
                "fileType": "image/png",
                "fileUrl": "https://e.com/a.png",
                "fileContent": ("a", PNG, "image/png"),
            },
            "exactly one",
        ),
        (
            {"fileType": "image/png", "until": "soon", "fileUrl": "https://e.com/a.png"},
            "until 'soon'",
        ),
        ({"fileType": "image/png", "fileUrl": "ftp://e.com/a.png"}, "not an http(s) URL"),
    ],
)
async def test_bad_uploads(emu: Emu, fields: dict[str, Any], message: str) -> None:
    reply = await upload(emu, fields)
    assert reply.status == 400
    assert reply.json()["status"] == "Error"
    assert message in reply.json()["message"]


async def test_not_a_form(emu: Emu) -> None:
    reply = await emu.client.post(
        f"/dotgo/rcs/bot/v1/{GSMA_BOT}/files",
        json={"fileType": "image/png"},
        headers=await emu.auth(),
    )
    assert reply.status == 400 and "multipart/form-data" in reply.json()["message"]


async def test_storage_full_is_the_seed_500(emu: Emu) -> None:
    emu.state.config.file_storage_limit_bytes = 150
    ok = await upload(emu, {"fileType": "image/png", "fileContent": ("a.png", PNG, "image/png")})
    assert ok.status == 202
    headers = {**await emu.auth(GOOGLE_BOT), "Content-Type": "image/png"}
    full = await emu.client.post(
        f"/dotgo/rcs/upload/v1/files?botId={GOOGLE_BOT}", data=PNG, headers=headers
    )
    assert full.status == 500
    assert full.json() == load("dotgo_google/upload_file_response_500.json")


async def test_google_upload_needs_bytes(emu: Emu) -> None:
    headers = {**await emu.auth(GOOGLE_BOT), "Content-Type": "image/png"}
    empty = await emu.client.post(f"/dotgo/rcs/upload/v1/files?botId={GOOGLE_BOT}", headers=headers)
    assert empty.status == 400
    assert "file's bytes" in empty.json()["message"]


async def test_files_belong_to_their_bot(emu: Emu) -> None:
    reply = await upload(emu, {"fileType": "image/png", "fileContent": ("a.png", PNG, "image/png")})
    file_id = reply.json()["File"]["fileId"]
    other = await emu.client.get(
        f"/dotgo/rcs/bot/v1/{GOOGLE_BOT}/files/{file_id}", headers=await emu.auth(GOOGLE_BOT)
    )
    assert other.status == 404
