"""The lookups behind the seed's six tools: list, resolve and compare over a scanned store.

``common`` holds what they share; ``listing``, ``resolve`` and ``compare`` one family each.
Each function returns a frozen result with a ``to_json(cwd)`` shape; ``formats`` lays it out.
"""
