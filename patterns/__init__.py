"""The pattern files of jixiao, installed as the package ``jixiao_patterns`` (see pyproject.toml).

The files beside this one are data a domain expert edits; this module only makes the folder a
package, so that ``importlib.resources`` finds it in an installed wheel as in a clone.
"""
