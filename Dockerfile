FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY shared ./shared
COPY services ./services
COPY hrc ./hrc
RUN pip install --no-cache-dir . && useradd --create-home campaign && mkdir -p /app/var && chown campaign /app/var
USER campaign
ENV HRC_VAR_DIR=/app/var PYTHONUNBUFFERED=1
ENTRYPOINT ["hrc"]
CMD ["run"]
