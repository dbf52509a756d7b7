"""Every read the pages and exports need, with the joins and prefetches that keep query counts flat.

One module per part of the product: `dossier` (everything the PDF prints about a case),
`history` (a case's hash-chained change history). Access to a case is resolved in
`cases.access`.
"""
