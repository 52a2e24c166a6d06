"""WSGI entry point: `waitress-serve --call wsgi:create_app` or `gunicorn 'wsgi:app'`."""
from portal import create_app, settle_for_serving

app = create_app()
settle_for_serving()
