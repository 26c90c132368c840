"""The web intake (``cos-xl serve``): regions upload their returns by a secret link and see the
verdict at once; the federal team follows the round and downloads the national report.

One more thin layer over the library, like the CLI: ``app`` (settings, rendering, the ASGI
app), ``region`` (a region's pages and the API), ``federal`` (the federal pages), ``worker`` and
``jobs`` (worker processes with a time limit for everything that opens a file), ``uploads``
(streamed uploads with a size limit), ``security`` (headers, CSRF, the access log),
``changes`` (what a resubmission changed), ``format`` (Russian numbers and dates).
"""
