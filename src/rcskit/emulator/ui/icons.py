"""Inline SVG icons of the web UI (24x24 outlines drawn with ``currentColor``; no icon font).

``icon("dial_phone_number")`` returns the ``<svg>`` markup; action names are those of
:data:`rcskit.emulator.ui.view.ACTION_NAMES`.
"""

from __future__ import annotations

__all__ = ["PATHS", "icon"]

PATHS: dict[str, str] = {
    "open_url": (
        '<circle cx="12" cy="12" r="9"/><path d="M3 12h18M12 3c2.5 2.6 3.7 5.6 3.7 9s-1.2 '
        '6.4-3.7 9M12 3C9.5 5.6 8.3 8.6 8.3 12s1.2 6.4 3.7 9"/>'
    ),
    "dial_phone_number": (
        '<path d="M6.6 3.5h2.8l1.4 4.2-2 1.4a11 11 0 0 0 6.1 6.1l1.4-2 4.2 1.4v2.8a2 2 0 0 '
        '1-2.2 2A16.5 16.5 0 0 1 4.6 5.7a2 2 0 0 1 2-2.2z"/>'
    ),
    "dial_enriched_call": (
        '<path d="M6.6 3.5h2.8l1.4 4.2-2 1.4a11 11 0 0 0 6.1 6.1l1.4-2 4.2 1.4v2.8a2 2 0 0 '
        '1-2.2 2A16.5 16.5 0 0 1 4.6 5.7a2 2 0 0 1 2-2.2z"/><path d="M17.5 2.5l.9 1.9 2 .3-1.5 '
        '1.4.4 2-1.8-1-1.8 1 .4-2-1.5-1.4 2-.3z"/>'
    ),
    "dial_video_call": (
        '<rect x="3" y="6" width="12.5" height="12" rx="2.5"/>'
        '<path d="M15.5 10.5 21 7.5v9l-5.5-3z"/>'
    ),
    "show_location": (
        '<path d="M12 21s-6.5-5.6-6.5-11a6.5 6.5 0 0 1 13 0c0 5.4-6.5 11-6.5 11z"/>'
        '<circle cx="12" cy="10" r="2.4"/>'
    ),
    "request_location_push": (
        '<circle cx="12" cy="12" r="6.5"/><circle cx="12" cy="12" r="2"/>'
        '<path d="M12 2v3.5M12 18.5V22M2 12h3.5M18.5 12H22"/>'
    ),
    "create_calendar_event": (
        '<rect x="3.5" y="5" width="17" height="15.5" rx="2.5"/>'
        '<path d="M3.5 10h17M8 3v4M16 3v4M12 13v5M9.5 15.5h5"/>'
    ),
    "compose_text_message": (
        '<path d="M4 20l1-4.2L15.6 5.2a2 2 0 0 1 2.8 0l.4.4a2 2 0 0 1 0 2.8L8.2 19z"/>'
        '<path d="M13.8 7l3.2 3.2"/>'
    ),
    "compose_recording_message": (
        '<rect x="9" y="3" width="6" height="11" rx="3"/><path d="M5.5 11a6.5 6.5 0 0 0 13 0'
        'M12 17.5V21M8.5 21h7"/>'
    ),
    "request_device_specifics": (
        '<rect x="6.5" y="2.5" width="11" height="19" rx="2.5"/><path d="M10.5 18.5h3"/>'
    ),
    "disable_anonymization": (
        '<circle cx="12" cy="8.5" r="3.8"/><path d="M4.5 20.5c1.2-3.6 4-5.5 7.5-5.5s6.3 1.9 '
        '7.5 5.5"/>'
    ),
    "enable_displayed_notifications": '<path d="M2.5 12.5l4 4 8-9M10.5 16.5l.5.5 9-10"/>',
    "reply": '<path d="M9.5 7 4.5 12l5 5"/><path d="M5 12h9a5.5 5.5 0 0 1 5.5 5.5V19"/>',
    "action": '<path d="M13 3 5 13.5h6L10 21l8-10.5h-6z"/>',
    "send": '<path d="M4 12 20.5 4 16 20l-4-6.5z"/><path d="M12 13.5 20.5 4"/>',
    "attach": '<path d="M12 5v14M5 12h14"/>',
    "back": '<path d="M19 12H5M11 6l-6 6 6 6"/>',
    "verified": (
        '<path d="M12 2.5l2.3 1.7 2.9-.1.9 2.7 2.3 1.7-.9 2.7.9 2.7-2.3 1.7-.9 2.7-2.9-.1'
        'L12 21.5l-2.3-1.7-2.9.1-.9-2.7-2.3-1.7.9-2.7-.9-2.7 2.3-1.7.9-2.7 2.9.1z"/>'
        '<path d="M8.5 12.2l2.4 2.3 4.6-4.8"/>'
    ),
    "play": '<path d="M8 5.5v13l10.5-6.5z"/>',
    "pause": '<path d="M8 5.5v13M16 5.5v13"/>',
    "file": (
        '<path d="M6.5 2.5h7.5l4.5 4.5v14.5h-12z"/><path d="M13.5 2.5V7.5h5M9 12.5h6M9 16h6"/>'
    ),
    "image": (
        '<rect x="3" y="4.5" width="18" height="15" rx="2.5"/><circle cx="9" cy="10" r="1.8"/>'
        '<path d="M4 18l5-5 3.5 3.5 3-3L21 18.5"/>'
    ),
    "check": '<path d="M5 12.5l4.5 4.5L19 7.5"/>',
    "double_check": '<path d="M2.5 12.5l4 4 8-9M10.5 16.5l.5.5 9-10"/>',
    "clock": '<circle cx="12" cy="12" r="8.5"/><path d="M12 7.5V12l3 2"/>',
    "alert": '<circle cx="12" cy="12" r="8.5"/><path d="M12 7.5v5.5M12 16.2v.3"/>',
    "signal": '<path d="M4 19v-2M9 19v-5M14 19v-8M19 19V6"/>',
    "wifi": (
        '<path d="M2.5 9a14 14 0 0 1 19 0M5.5 12.5a9.5 9.5 0 0 1 13 0M8.6 15.8a5 5 0 0 1 6.8 0"/>'
        '<path d="M12 19.2v.3"/>'
    ),
    "battery": '<rect x="2.5" y="7" width="17" height="10" rx="2.5"/><path d="M21.5 10.5v3"/>'
    '<rect x="4.5" y="9" width="11" height="6" rx="1"/>',
}
"""SVG inner markup by icon name."""


def icon(name: str, css_class: str = "icon") -> str:
    """The ``<svg>`` element of icon ``name`` (the generic ``action`` icon when unknown)."""
    inner = PATHS.get(name, PATHS["action"])
    return (
        f'<svg class="{css_class}" viewBox="0 0 24 24" aria-hidden="true" fill="none" '
        'stroke="currentColor" stroke-width="1.8" stroke-linecap="round" '
        f'stroke-linejoin="round">{inner}</svg>'
    )
