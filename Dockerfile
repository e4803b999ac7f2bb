# One image for every process of the service (bot, notifier, console, stand-in, migrations),
# built once: `docker compose build` (or `docker build -t innoeng .`); containers never pip install.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# The dependencies first, from pyproject.toml alone: a code change does not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# The code; editable, so that templates/ and the migrations are read from /app as in a checkout.
COPY . .
RUN pip install --no-deps -e . \
    && useradd --system --uid 10001 --home-dir /app innoeng \
    && mkdir -p /app/data \
    && chown -R innoeng /app/data

USER innoeng
VOLUME ["/app/data"]
CMD ["innoeng", "run"]
