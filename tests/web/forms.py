"""The fields of the editor's form (``form.editor``) as a browser would post them."""

from __future__ import annotations

from html.parser import HTMLParser

#: Inputs a form posts by their value (checkboxes and radios only when checked).
_NO_VALUE = {"submit", "button", "reset", "image", "file"}


class _EditorForm(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self.inside = False
        self.select: str | None = None
        self.area: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = "editor" in a.get("class", "").split()
        if not self.inside or "disabled" in a:
            return
        name = a.get("name")
        kind = a.get("type", "text")
        if tag == "input" and name and kind not in _NO_VALUE:
            if kind not in ("checkbox", "radio") or "checked" in a:
                self.fields[name] = a.get("value", "on" if kind == "checkbox" else "")
        elif tag == "select" and name:
            self.select = name
        elif tag == "option" and self.select and (
                "selected" in a or self.select not in self.fields):
            self.fields[self.select] = a.get("value", "")  # the first option unless one is chosen
        elif tag == "textarea" and name:
            self.area = name
            self.fields[name] = ""

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.area = None

    def handle_data(self, data: str) -> None:
        if self.area:
            self.fields[self.area] += data


def editor_fields(html: str) -> dict[str, str]:
    """Every field of the page's editor form, ready to post back."""
    parser = _EditorForm()
    parser.feed(html)
    # A textarea's first newline belongs to the markup, as browsers read it.
    return {k: v.removeprefix("\n") for k, v in parser.fields.items()}
