"""`shadowmap package`: what an IT admin uploads to an MDM, per OS.

`spec` holds the admin's choices, `browsers` the browser facts (host-manifest and policy
locations, documented policy keys) as data, and one module per OS builds its artifacts:
`debian` (a .deb), `windows` (WiX source + .msi via wixl), `macos` (pkg payload, scripts,
.mobileconfig). Every builder needs a source checkout: it packages this tree.
"""
