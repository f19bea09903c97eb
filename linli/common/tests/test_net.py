from django.test import RequestFactory

from linli.common.net import client_ip


def test_without_trusted_proxy_the_socket_address_counts(settings):
    settings.LINLI_TRUSTED_PROXIES = 0
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4")
    assert client_ip(request) == "10.0.0.1"


def test_one_trusted_proxy_takes_the_last_forwarded_address(settings):
    settings.LINLI_TRUSTED_PROXIES = 1
    # the client forged the first entry; nginx appended the real one
    request = RequestFactory().get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7")
    assert client_ip(request) == "203.0.113.7"


def test_missing_header_falls_back_to_socket(settings):
    settings.LINLI_TRUSTED_PROXIES = 2
    request = RequestFactory().get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert client_ip(request) == "127.0.0.1"
