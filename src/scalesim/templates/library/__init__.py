"""The templates, one module each; `scalesim.templates.registry` lists them."""
