from __future__ import annotations

import datetime
import io
import os
from http import HTTPStatus

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from .factories import UserFactory
from .images import image_upload, jpeg_with_exif_upload, png_bomb_upload

pytestmark = pytest.mark.django_db

PROFILE_URL = reverse("accounts:profile")


def profile_data(user, **changes):
    data = {
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "date_of_birth": "",
    }
    data.update(changes)
    return data


@pytest.fixture
def reader(client):
    user = UserFactory(username="reader", first_name="Rea", last_name="Der")
    client.force_login(user)
    return user


@pytest.fixture
def reader_with_photo(client, reader):
    response = client.post(PROFILE_URL, profile_data(reader, profile_photo=image_upload()))
    assert response.status_code == HTTPStatus.FOUND
    reader.refresh_from_db()
    assert reader.profile_photo
    return reader


def test_anonymous_user_is_sent_to_login(client):
    response = client.get(PROFILE_URL)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == f"{reverse('accounts:login')}?next={PROFILE_URL}"


def test_user_edits_their_own_details(client, reader):
    response = client.post(
        PROFILE_URL,
        profile_data(reader, first_name="Ada", date_of_birth="1990-05-17"),
    )
    assert response.status_code == HTTPStatus.FOUND
    reader.refresh_from_db()
    assert reader.first_name == "Ada"
    assert reader.date_of_birth == datetime.date(1990, 5, 17)
    assert "Your profile was saved." in client.get(PROFILE_URL).text


def test_a_new_email_waits_for_its_link_while_the_rest_is_saved(client, reader, mailoutbox):
    # The whole flow is in test_email_change.py; here only what the profile form does.
    response = client.post(
        PROFILE_URL, profile_data(reader, first_name="Ada", email="ada@example.net")
    )
    assert response.status_code == HTTPStatus.FOUND
    reader.refresh_from_db()
    assert reader.first_name == "Ada"
    assert reader.email == "reader@example.org"
    assert [message.to for message in mailoutbox] == [["reader@example.org"], ["ada@example.net"]]


def test_profile_refuses_another_users_email_in_any_case(client, reader):
    UserFactory(username="other", email="taken@example.net")
    response = client.post(PROFILE_URL, profile_data(reader, email="TAKEN@example.net"))
    assert response.status_code == HTTPStatus.OK
    assert "A user with that email address already exists." in response.text
    reader.refresh_from_db()
    assert reader.email != "TAKEN@example.net"


def test_profile_refuses_a_date_of_birth_in_the_future(client, reader):
    tomorrow = datetime.date.today() + datetime.timedelta(days=2)
    response = client.post(PROFILE_URL, profile_data(reader, date_of_birth=tomorrow.isoformat()))
    assert response.status_code == HTTPStatus.OK
    assert "cannot be in the future" in response.text


@pytest.mark.parametrize(
    ("upload", "stored_format"),
    [
        (lambda: image_upload("me.png", "PNG"), "PNG"),
        (lambda: image_upload("me.jpeg", "JPEG"), "JPEG"),
        (lambda: image_upload("me.webp", "WEBP"), "WEBP"),
    ],
)
def test_real_images_are_accepted_and_stored_under_a_random_name(
    client, reader, upload, stored_format
):
    response = client.post(PROFILE_URL, profile_data(reader, profile_photo=upload()))
    assert response.status_code == HTTPStatus.FOUND
    reader.refresh_from_db()
    name = reader.profile_photo.name
    assert name.startswith("avatars/")
    assert "me." not in name
    with reader.profile_photo.open("rb") as stored:
        assert Image.open(stored).format == stored_format


def test_photo_metadata_is_stripped(client, reader):
    upload = jpeg_with_exif_upload()
    assert b"SpyCam" in upload.read()
    upload.seek(0)
    client.post(PROFILE_URL, profile_data(reader, profile_photo=upload))
    reader.refresh_from_db()
    with reader.profile_photo.open("rb") as stored:
        content = stored.read()
    assert b"SpyCam" not in content
    assert len(Image.open(io.BytesIO(content)).getexif()) == 0


def rejected(client, user, upload):
    """Post ``upload``; the form must be re-shown with an error and the photo unchanged."""
    before = user.profile_photo.name
    response = client.post(PROFILE_URL, profile_data(user, profile_photo=upload))
    assert response.status_code == HTTPStatus.OK
    user.refresh_from_db()
    assert user.profile_photo.name == before
    if before:
        assert user.profile_photo.storage.exists(before)
    return response.text


def test_renamed_text_file_is_rejected_and_old_photo_kept(client, reader_with_photo):
    fake = SimpleUploadedFile("cat.png", b"this is not a picture\n" * 20, content_type="image/png")
    page = rejected(client, reader_with_photo, fake)
    assert "Upload a JPEG, PNG or WebP image. This file is not one." in page


def test_oversized_file_is_rejected_and_old_photo_kept(client, reader_with_photo):
    # Random pixels do not compress: a real, valid PNG well over 2 MB.
    big = Image.frombytes("RGB", (1024, 1024), os.urandom(1024 * 1024 * 3))
    buffer = io.BytesIO()
    big.save(buffer, format="PNG")
    assert buffer.tell() > 2 * 1024 * 1024
    upload = SimpleUploadedFile("big.png", buffer.getvalue(), content_type="image/png")
    page = rejected(client, reader_with_photo, upload)
    assert "too large" in page


@pytest.mark.parametrize("side", [5_000, 30_000])
def test_decompression_bomb_is_rejected_and_old_photo_kept(client, reader_with_photo, side):
    # 5,000² passes Pillow's own bomb limit and must hit ours; 30,000² trips Pillow's.
    upload = png_bomb_upload(side, side)
    assert upload.size < 100_000
    page = rejected(client, reader_with_photo, upload)
    assert f"{side}×{side} pixels" in page or "far too many pixels" in page


def test_image_over_the_pixel_limit_is_rejected(client, reader_with_photo):
    page = rejected(client, reader_with_photo, image_upload("wide.png", "PNG", size=(4097, 10)))
    assert "4097×10 pixels" in page


def test_gif_is_rejected(client, reader_with_photo):
    page = rejected(client, reader_with_photo, image_upload("anim.gif", "GIF"))
    assert "JPEG, PNG or WebP" in page


def test_replacing_the_photo_deletes_the_old_file(
    client, reader_with_photo, django_capture_on_commit_callbacks
):
    old_name = reader_with_photo.profile_photo.name
    storage = reader_with_photo.profile_photo.storage
    with django_capture_on_commit_callbacks(execute=True):
        client.post(PROFILE_URL, profile_data(reader_with_photo, profile_photo=image_upload()))
    reader_with_photo.refresh_from_db()
    assert reader_with_photo.profile_photo.name != old_name
    assert not storage.exists(old_name)


def test_photo_is_served_to_signed_in_users_only(client, reader_with_photo):
    url = reader_with_photo.profile_photo_url
    response = client.get(url)
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "image/png"
    assert "private" in response["Cache-Control"]
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")
    client.logout()
    response = client.get(url)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith(reverse("accounts:login"))


def test_unknown_photo_is_404(client, reader):
    response = client.get(reverse("accounts:profile-photo", args=["nothing.png"]))
    assert response.status_code == HTTPStatus.NOT_FOUND


def test_navbar_shows_the_avatar(client, reader_with_photo):
    page = client.get(reverse("core:home")).text
    assert f'src="{reader_with_photo.profile_photo_url}"' in page


def test_truncated_image_is_rejected_as_damaged(client, reader_with_photo):
    whole = image_upload("me.png", "PNG", size=(300, 300)).read()
    upload = SimpleUploadedFile("me.png", whole[: len(whole) // 2], content_type="image/png")
    page = rejected(client, reader_with_photo, upload)
    assert "could not be read" in page


def test_review_emails_can_be_turned_off_and_on_again_on_the_profile(client, reader):
    page = client.get(PROFILE_URL).text
    assert 'name="email_notifications"' in page
    assert reader.email_notifications  # on by default
    client.post(PROFILE_URL, profile_data(reader))  # the box unticked: not sent
    reader.refresh_from_db()
    assert not reader.email_notifications
    client.post(PROFILE_URL, profile_data(reader, email_notifications="on"))
    reader.refresh_from_db()
    assert reader.email_notifications
