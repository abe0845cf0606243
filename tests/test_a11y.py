"""Accessibility repairs of the written HTML (site/a11y.py): the bibliography's list items."""

from ixathaldex.site.a11y import repair_body

DOCUTILS_BIBLIOGRAPHY = (
    '<div role="list" class="citation-list">\n'
    '<div class="citation" id="id4" role="doc-biblioentry">\n'
    '<span class="label"><span class="fn-bracket">[</span>1<span class="fn-bracket">]</span></span>\n'
    '<span class="backrefs">(<a role="doc-backlink" href="#id1">1</a>)</span>\n<p>Ludwig.</p>\n</div>\n</div>')


def test_citation_entries_become_list_items():
    out = repair_body(DOCUTILS_BIBLIOGRAPHY)
    assert 'role="doc-biblioentry"' not in out
    assert '<div class="citation" id="id4" role="listitem">' in out
    assert out.count('role="listitem"') == 1


def test_other_markup_is_left_alone():
    text = '<p role="doc-biblioentry">a paragraph, not a citation entry</p>'
    assert repair_body(text) == text
