"""Quiet hours in the recipient's local time, and the limiters a campaign uses."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from rcskit.campaign import CampaignError, QuietHours, quiet_until, send_limiter
from rcskit.campaign.pacing import bulk_limiter, default_concurrency, zones_of
from rcskit.ratelimit import DotgoWindowLimiter, TokenBucket


def test_quiet_hours_parse_and_cross_midnight() -> None:
    quiet = QuietHours.parse("21:00-08:00")
    assert (quiet.start, quiet.end, str(quiet)) == (time(21), time(8), "21:00-08:00")
    assert quiet.contains(time(23, 30)) and quiet.contains(time(7, 59))
    assert not quiet.contains(time(8)) and not quiet.contains(time(20, 59))
    lunch = QuietHours.parse("12:00-14:00")
    assert lunch.contains(time(13)) and not lunch.contains(time(14))


@pytest.mark.parametrize("text", ["21-08", "25:00-08:00", "08:00-08:00", "", "21:00-8:60"])
def test_bad_quiet_hours_name_the_value(text: str) -> None:
    with pytest.raises(CampaignError, match="--quiet-hours"):
        QuietHours.parse(text)


def test_zones_come_from_the_number() -> None:
    assert [z.key for z in zones_of("+33612345678")] == ["Europe/Paris"]
    assert [z.key for z in zones_of("+12125551234")] == ["America/New_York"]
    # a number phonenumbers cannot place gets its country's main zone
    assert zones_of("+15550001234") == zones_of("+12015550123")


def test_quiet_until_is_the_end_of_the_quiet_hours_in_local_time() -> None:
    quiet = QuietHours.parse("21:00-08:00")
    paris = "+33612345678"
    # 21:30 UTC in January is 22:30 in Paris: wait until 08:00 Paris = 07:00 UTC
    until = quiet_until(paris, datetime(2025, 1, 15, 21, 30, tzinfo=UTC), quiet)
    assert until == datetime(2025, 1, 16, 7, 0, tzinfo=UTC)
    # in July Paris is UTC+2: 08:00 local is 06:00 UTC
    until = quiet_until(paris, datetime(2025, 7, 15, 22, 0, tzinfo=UTC), quiet)
    assert until == datetime(2025, 7, 16, 6, 0, tzinfo=UTC)
    # 12:00 UTC is 13:00 in Paris: send now; and the same instant is 07:00 in New York: wait
    noon = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)
    assert quiet_until(paris, noon, quiet) is None
    assert quiet_until("+12125551234", noon, quiet) == datetime(2025, 1, 15, 13, 0, tzinfo=UTC)
    assert quiet_until(paris, noon, None) is None


def test_the_limiters_follow_the_provider() -> None:
    dotgo = send_limiter("dotgo", 50)
    assert isinstance(dotgo, DotgoWindowLimiter) and dotgo.limit == 1500
    assert isinstance(send_limiter("maap", 50), TokenBucket)
    assert isinstance(bulk_limiter(2), TokenBucket)
    with pytest.raises(CampaignError, match="--tps"):
        send_limiter("dotgo", 0)


def test_default_concurrency_is_about_a_second_of_sends() -> None:
    tps = (1, 50, 100.5, 500, 1e6)
    assert [default_concurrency(t) for t in tps] == [32, 50, 101, 500, 512]


def test_zones_without_parsing_are_those_of_the_parsed_number() -> None:
    """Numbers of a country whose numbers all share their zones get them without being
    parsed: the same zones as parsing gives, for every country code, short and long numbers,
    national prefixes and all."""
    import random

    import phonenumbers

    from rcskit.campaign.pacing import _country_wide, _parsed_zones

    rng = random.Random(7)
    fast = 0
    for code in sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE):
        cc = str(code)
        for total in range(5, 16):
            rest = total - len(cc)
            if rest < 1:
                continue
            samples = {"0" * rest, "1" + "0" * (rest - 1), "9" * rest}
            samples |= {"".join(rng.choice("0123456789") for _ in range(rest)) for _ in range(4)}
            example = phonenumbers.example_number_for_non_geo_entity(code) or next(
                (
                    phonenumbers.example_number(r)
                    for r in phonenumbers.COUNTRY_CODE_TO_REGION_CODE[code]
                    if phonenumbers.example_number(r) is not None
                ),
                None,
            )
            if example is not None:
                samples.add(str(example.national_number)[:rest].ljust(rest, "5"))
            for national in samples:
                number = f"+{cc}{national}"
                same = _country_wide(number)
                if same is not None:
                    fast += 1
                    assert same == _parsed_zones(number), number
                    assert zones_of(number) == same
    assert fast > 10_000, "most country codes take the short way"
    assert _country_wide("+12125551234") is None, "the US has several zones: parsed"
    assert [z.key for z in zones_of("+33612345678")] == ["Europe/Paris"]
