"""The one escaping rule for every string that reaches a page: HTML text, attributes, scripts.

Folium writes tooltips and popups into the page in three contexts at once: as HTML (the
tooltip's ``innerHTML``), inside attribute values, and inside JavaScript template literals
(``bindTooltip(`<div>...</div>`)``), where a backtick ends the string and ``${...}`` runs
code. :func:`escape` makes a string inert in all three by turning every character that means
something there into an HTML character reference:

=========  ===========  ===================================================
character  reference    why
=========  ===========  ===================================================
``&``      ``&amp;``    starts a reference
``<`` ``>``  ``&lt;`` ``&gt;``  tags (``</script>``, ``<img onerror=...>``)
``"`` ``'``  ``&quot;`` ``&#x27;``  end an attribute value
`````      ``&#96;``    ends a JavaScript template literal
``$``      ``&#36;``    ``${...}`` interpolation in a template literal
``\\``     ``&#92;``    escapes in a JavaScript string
=========  ===========  ===================================================

The references display as the original characters once the browser parses the HTML, so a
name such as ``Côte d'Ivoire`` or ``Recycler "<Best>" $1`` reads as written. Every map the
package makes (:mod:`ewaste_tracker.maps.render`, :mod:`ewaste_tracker.maps.siting`,
:mod:`ewaste_tracker.maps.legend`) and every label the app shows with HTML goes through it.
"""

from __future__ import annotations

__all__ = ["escape"]

_TABLE = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&quot;",
        "'": "&#x27;",
        "`": "&#96;",
        "$": "&#36;",
        "\\": "&#92;",
    }
)


def escape(value: object) -> str:
    """Return ``str(value)`` made inert in HTML text, attribute values and JS template strings.

    Parameters
    ----------
    value
        Anything; ``None`` becomes the empty string.

    Returns
    -------
    str
        The text with ``& < > " ' ` $ \\`` replaced by HTML character references.

    Examples
    --------
    >>> escape("</script><script>alert(1)</script>")
    '&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;'
    >>> escape("${alert(1)}")
    '&#36;{alert(1)}'
    """
    return "" if value is None else str(value).translate(_TABLE)
