"""How a published figure's files travel from a chapter's kernel to the site.

A figure of :mod:`ixathaldex.report.figure_publish` is displayed with its SVG, PNG and CSV files
(base64) in one output of MIME type :data:`FILES_MIME`; the build (``site.stage``) writes them to
:data:`FOLDER` beside the page. Both sides read the contract from here, so the build does not import
the plotting stack to learn two names.
"""

#: the notebook output type that carries a figure's files to the build
FILES_MIME = "application/vnd.ixathaldex.figure-files+json"
#: the folder, beside the page, that holds the figure files
FOLDER = "figures"
