"""Golden verdicts of datatrove 0.10.1's URLFilter for datamill's `url_filter` stage.

Run from anywhere, in a venv with datatrove==0.10.1, tldextract==5.4.0, pyahocorasick==2.3.1:
    python crates/datamill-stages/tests/golden/url_filter/make_golden.py
The lists of this folder are passed as datatrove's extra_* arguments (file objects: each line is
parsed exactly as datatrove parses its own list files), use_integrated_lists=False, and the
tldextract instance is replaced by one that only uses tldextract's bundled PSL snapshot (no
network), which is what datamill embeds.
"""
import json
import os

from tldextract import TLDExtract

from datatrove.data import Document
from datatrove.pipeline.filters.url_filter import URLFilter

HERE = os.path.dirname(os.path.abspath(__file__))


def lines(name):
    return list(open(os.path.join(HERE, name), encoding="utf-8"))


URLS = [
    "http://blocked.example/", "https://www.blocked.example/a/b", "http://blocked.example.com/",
    "http://shop.bad-site.co.uk/x", "http://bad-site.co.uk", "http://bad-site.com/",
    "https://sub.tracker.example.org/p", "https://tracker.example.org/p", "https://a.sub.tracker.example.org/",
    "http://example.com/", "http://Example.COM/", "http://www.Example.COM/", "http://EXAMPLE.com/",
    "http://paste.blogspot.com/", "http://other.blogspot.com/", "http://blogspot.com/",
    "http://fine.example.net/exact/page.html", "http://fine.example.net/exact/page.html?x",
    "https://news.example.net/?id=42", "https://news.example.net/?id=43",
    "http://games.example.net/casino/", "http://games.example.net/Casino/", "http://games.example.net/casinos",
    "http://poker.example.net/", "http://example.net/POKER", "http://example.net/notacomment",
    "http://example.net/xxxrated", "http://example.net/xxx-rated",
    "http://example.net/sex", "http://example.net/sex/cams", "http://live-cams.example.net/",
    "http://example.net/nude-sex-live", "http://example.net/sexy-cams",
    "http://example.net/buy-VIAGRA-now", "http://example.net/hotgirls", "http://hot.girls.example/",
    "http://example.net/cryptoscam", "http://example.net/crypto_scam.html",
    "http://127.0.0.1/casino", "http://192.168.1.1:8080/", "http://[::1]/x", "http://localhost/",
    "http://www.blocked-site.com/", "http://user:pass@blocked-site.com:8080/x", "blocked-site.com/path",
    "//blocked-site.com/p", "ftp://files.blocked-site.com/", "http://blocked-site.com./", "http://blocked-site。com/",
    "mailto:someone@blocked-site.com", "HTTP://BLOCKED-SITE.COM/", "http://blocked-site.com:80", " http://blocked-site.com/ ",
    "http://user:pass@blocked.example:8080/x", "blocked.example/path", "//blocked.example/p",
    "ftp://files.blocked.example/", "http://blocked.example./", "http://blocked。example/",
    "http://www.foo.ck/", "http://www.ck/", "http://foo.bar.kawasaki.jp/", "http://city.kawasaki.jp/",
    "http://пример.рф/", "http://xn--e1afmkfd.xn--p1ai/", "http://münchen.de/", "http://xn--mnchen-3ya.de/",
    "http://a..b.example.com/", "http://example.unknowntld/", "https://fine.example.net/ok",
    "https://docs.python.org/3/library/ipaddress.html", "https://en.wikipedia.org/wiki/Live_(band)",
    "mailto:someone@blocked.example", "http://example.net/path#frag?casino", "http://a.b.c.d.e.co.uk/",
    "http://wEiRd.Bad-Site.Co.Uk/", "http://s3.amazonaws.com/bucket", "http://github.io/", "http://user.github.io/",
]


def main():
    f = URLFilter(
        extra_domains=lines("domains"),
        extra_urls=lines("urls"),
        banned_words=lines("banned_words.txt"),
        banned_subwords=lines("banned_subwords.txt"),
        soft_banned_words=lines("soft_banned_words.txt"),
        use_integrated_lists=False,
    )
    f.tldextractor = TLDExtract(suffix_list_urls=(), cache_dir=None)
    with open(os.path.join(HERE, "url_filter_golden.jsonl"), "w", encoding="utf-8") as out:
        for url in URLS:
            res = f.filter(Document(text="x", id="x", metadata={"url": url}))
            reason = None if res is True else res[1]
            info = f.tldextractor(url)
            out.write(json.dumps({
                "url": url, "reason": reason,
                "registered_domain": info.top_domain_under_public_suffix, "fqdn": info.fqdn,
            }, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
