"""A bare Flask app answering GET /hello with a small JSON body: the read benchmark's baseline.

Served by bench/bench_reads.py under the repo's gunicorn.conf.py (same workers and threads).
"""

from flask import Flask

app = Flask(__name__)


@app.get("/hello")
def hello():
    return {"hello": "world"}
