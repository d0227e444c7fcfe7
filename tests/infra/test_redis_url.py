"""`redis.url` takes redis-py's URLs and `redis+sentinel://host:port[,host:port...]/SERVICE[/DB]`;
anything else is refused when the settings are read, naming what is wrong."""

import pytest

from stackq.infra.redis_client import SentinelBlockingConnectionPool, redis_from_settings
from stackq.infra.redis_url import SentinelURL, parse_sentinel_url
from stackq.infra.registry import SETTINGS
from stackq.infra.settings import SettingsError, load_settings


def settings_with(url, tmp_path):
    return load_settings({"redis.url": url, "sqlalchemy.url": "sqlite://"},
                         here=str(tmp_path), environ={})[SETTINGS]


def test_a_sentinel_url_names_the_sentinels_the_service_and_the_database():
    assert parse_sentinel_url("redis+sentinel://:s%40cret@10.0.0.1:26379,[::1]:26380,b/cache/3") \
        == SentinelURL((("10.0.0.1", 26379), ("::1", 26380), ("b", 26379)), "cache", 3, "s@cret")
    assert parse_sentinel_url("redis+sentinel://a:1/mymaster").db == 0
    assert parse_sentinel_url("redis+sentinel://:m@a:1/mymaster?sentinel_password=s%26t") \
        == SentinelURL((("a", 1),), "mymaster", 0, "m", "s&t")


@pytest.mark.parametrize(("url", "says"), [
    ("redis+sentinel://a:26379", "/SERVICE"),
    ("redis+sentinel://a:26379/", "/SERVICE"),
    ("redis+sentinel:///mymaster", "no sentinel"),
    ("redis+sentinel://a:port/mymaster", "no host:port"),
    ("redis+sentinel://a:1/mymaster/zero", "database 'zero'"),
    ("redis+sentinel://a:1/mymaster/0/extra", "/SERVICE"),
    ("http://a:6379/0", "scheme 'http'"),
    ("redis+sentinel://a:1/mymaster?password=x", "unknown option 'password'"),
])
def test_a_redis_url_stackq_cannot_use_is_refused_when_read(url, says, tmp_path):
    with pytest.raises(SettingsError, match="redis.url") as raised:
        settings_with(url, tmp_path)
    assert says in str(raised.value)


@pytest.mark.parametrize("url", ["", "redis://127.0.0.1:6379/11", "unix:///tmp/r.sock",
                                 "rediss://h:6380/0"])
def test_plain_urls_and_the_embedded_redis_still_do(url, tmp_path):
    assert settings_with(url, tmp_path).redis_url == url


def test_a_sentinel_url_gives_one_client_whose_pool_follows_the_master(tmp_path):
    client = redis_from_settings(settings_with("redis+sentinel://127.0.0.1:1/svc/2", tmp_path))
    pool = client.connection_pool
    assert isinstance(pool, SentinelBlockingConnectionPool)
    assert pool.service_name == "svc" and pool.connection_kwargs["db"] == 2
    assert pool.max_connections == 200  # blocking when full, as the plain pool
    client.close()
