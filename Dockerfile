# TechScreen API image: gunicorn (gthread) serving app:create_app(), migrations at start-up.
#
#   docker build -t techscreen .
#   docker run -e ANTHROPIC_API_KEY=... -e DATABASE_URL='mysql+pymysql://user:pass@host/db?charset=utf8mb4' -p 8000:8000 techscreen
#
# APP_ENV=production: a MySQL/MariaDB DATABASE_URL and ANTHROPIC_API_KEY are required (the
# app refuses to start otherwise; the sandbox provider is never used in production).
FROM python:3.11-slim

# XDG_RUNTIME_DIR: where gunicorn puts its control socket (else $HOME/.gunicorn, not writable here).
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    APP_ENV=production \
    BIND=0.0.0.0:8000 \
    XDG_RUNTIME_DIR=/tmp

WORKDIR /app

# WeasyPrint's system libraries (Pango, HarfBuzz's subsetter) and a font, for the PDF kits:
# bin/system-packages lists them (apt-get, only what is missing). No browser in the image.
COPY bin/system-packages bin/
RUN bin/system-packages && rm -rf /var/lib/apt/lists/*

# Dependencies first, so code changes do not reinstall them.
COPY requirements.txt .
RUN pip install -r requirements.txt

RUN groupadd --system --gid 10001 techscreen \
    && useradd --system --uid 10001 --gid techscreen --home-dir /app --shell /usr/sbin/nologin techscreen

# Code stays owned by root (read-only for the service); only instance/ is writable.
COPY . .
RUN mkdir -p instance && chown techscreen:techscreen instance && chmod 0755 bin/docker-entrypoint

USER techscreen
EXPOSE 8000

HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD python -c "import urllib.request, sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4).status == 200 else 1)"

ENTRYPOINT ["/app/bin/docker-entrypoint"]
CMD ["gunicorn", "-c", "gunicorn.conf.py"]
