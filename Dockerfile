# The course's classroom image: JupyterLab on the notebooks, with exactly the pinned requirements.txt.
#   docker build -t transfer-learning-course .
#   docker run --rm -it --init -p 8888:8888 -e JUPYTER_TOKEN=... -v course-data:/home/learner/course/data \
#     transfer-learning-course
# CPU only: requirements.txt pins plain tensorflow (no CUDA libraries). Tests: tests/tools/test_docker.py.
FROM python:3.11-slim-bookworm

# Every cache the notebooks fill (Keras weights, TF Hub modules, TFDS data sets, the course's own downloads) lives
# under the project's data/, as with the Makefile, so one volume on data/ keeps them across containers.
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    KERAS_HOME=/home/learner/course/data/keras \
    TFHUB_CACHE_DIR=/home/learner/course/data/tfhub \
    TFDS_DATA_DIR=/home/learner/course/data/tensorflow_datasets

# A fixed, non-root user (UID/GID 1000): files written to a bind mount belong to the usual first user on Linux.
RUN groupadd --gid 1000 learner \
    && useradd --uid 1000 --gid 1000 --no-log-init --create-home --shell /bin/bash learner

WORKDIR /home/learner/course

# The pinned requirements first, alone, so editing the notebooks or helpers reuses this (large) layer.
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt

# Then the course itself; helpers is installed editable (no dependencies: they are all above), so a bind mount of
# the project over this folder (the dev container) runs the mounted helpers.
COPY . ./
RUN pip install --no-deps --no-cache-dir -e . \
    && chmod 0755 docker/entrypoint.sh \
    && mkdir -p data/keras data/tfhub data/tensorflow_datasets runs images \
    && chown -R learner:learner /home/learner/course

# Numeric, so Kubernetes' runAsNonRoot (and hadolint DL3066) can check it: UID/GID 1000 is `learner` above.
USER 1000:1000

EXPOSE 8888

# /api answers without a token (it only gives the server's version), so the check needs no secret.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8888/api', timeout=4)"]

# Refuses to start without JUPYTER_TOKEN, then runs JupyterLab on notebooks/ at 0.0.0.0:8888 with that token.
# Arguments after the image name are passed on to `jupyter lab`.
ENTRYPOINT ["/home/learner/course/docker/entrypoint.sh"]
