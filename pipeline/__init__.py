"""jixiao pipeline: source file -> document -> sections -> extractors -> checks -> tables.

Everything here is plain Python, callable without Prefect or the CLI.
"""
