"""The emulator's sites and questions: generated once from a fixed seed."""

import calendar
import hashlib
import random
import re
import unicodedata
from functools import cache

SEED = 2300
# Fixed "now" of the data, so every run sees the same dates; mutations move past it.
DATA_NOW = calendar.timegm((2026, 11, 1, 0, 0, 0))
_START = calendar.timegm((2009, 1, 1, 0, 0, 0))
_CC_30 = calendar.timegm((2011, 4, 8, 0, 0, 0))
_CC_40 = calendar.timegm((2018, 5, 2, 0, 0, 0))

# Key order of a default-filter question item, as in the captured answers.
QUESTION_KEYS = (
    "tags", "owner", "is_answered", "view_count", "closed_date", "accepted_answer_id",
    "answer_count", "score", "last_activity_date", "creation_date", "last_edit_date",
    "question_id", "content_license", "link", "closed_reason", "title",
)

HOSTILE_TITLES = {
    "quotes": 'What does the "yield" keyword do in Python?',
    "ampersand": "Python's & operator",
    "script": "Why does <script>alert(1)</script> run when I render a Python string?",
    "img": "Python HTML sanitizer lets <img src=x onerror=alert(1)> through",
    "unicode": "Python: ünïcödé — 日本語 ✓",
    "deleted_owner": "Why can't I pickle a lambda in Python?",
    "owner_name": "Python 'is' vs '==' when comparing strings",
}
# Stack Overflow ids of the hostile items: all match q=python and come first by activity.
HOSTILE_QUESTION_IDS = {
    "quotes": 231767, "ampersand": 79900011, "script": 79900023, "img": 79900037,
    "unicode": 79900041, "deleted_owner": 79900053, "owner_name": 79900067,
}
DELETED_OWNER = {"user_type": "does_not_exist", "display_name": "user12345"}
HOSTILE_DISPLAY_NAME = "Renée \"<b>root</b>\" O'Brien & Co"

_PROBLEMS = (
    "returns None", "is very slow", "hangs forever", "never finishes", "gives the wrong result",
    "is not updated", "leaks memory", "throws an exception", "works locally but not in production",
    "behaves differently on Windows", "is empty",
)
_ACTS = (
    "sort", "merge", "convert", "parse", "iterate over", "filter", "serialize", "cancel", "compare",
    "flatten", "copy", "validate", "cache", "reverse", "split", "update", "delete", "test", "mock",
)
_CODE_TEMPLATES = (
    "How to {act} the {thing} in {tech}?", "{tech}: {thing} {problem}",
    "My {thing} {problem}, why?", "{tech} {thing} {problem} after upgrading",
    "{error} when trying to {act} the {thing} in {tech}", "Best way to {act} a {thing}",
    "What is the difference between {thing} and {thing2} in {tech}?",
    "Can't {act} {thing} using {tech}", "Is it possible to {act} the {thing} without the {thing2}?",
    "{tech} - how do I {act} the {thing} by key", "{thing} {problem} ({tech})",
)
_MATH_TEMPLATES = (
    "How to {act} the {thing}?", "Why is this {thing} {problem}?", "{tech}: {act} a {thing}",
    "Show that the {thing} is {problem}", "Is every {thing} {problem}?",
    "Difference between a {thing} and a {thing2} in {tech}",
)

# One row per topic: name, how many (0: the rest), tags always set, tags sometimes added,
# words for {tech}, things, errors. Most Stack Overflow rows carry python, javascript, sql or
# linux, so those four tags together match more than 2,500 questions (past page 25).
_SO = (
    ("python", 0, "python", "python-3.x list dictionary pandas numpy string regex json class",
     "Python|python|Python 3", "list|dictionary|string|generator|decorator|nested list|JSON file"
     "|CSV file|datetime|virtualenv|f-string|lambda|tuple|class attribute",
     "TypeError|KeyError|ValueError|AttributeError"),
    ("asyncio", 300, "python asyncio", "python-3.x aiohttp concurrency async-await",
     "asyncio|Python asyncio", "event loop|coroutine|task|asyncio.gather call|aiohttp session"
     "|async generator|semaphore|queue",
     "RuntimeError: Event loop is closed|CancelledError|TimeoutError"),
    ("django", 150, "python django", "django-models django-orm django-rest-framework django-forms",
     "Django|django", "queryset|model field|migration|form|view|template tag|admin page",
     "ImproperlyConfigured|OperationalError"),
    ("pyramid", 60, "python pyramid", "sqlalchemy jinja2 wsgi", "Pyramid|pyramid",
     "view config|route|tween|renderer|session|request attribute",
     "HTTPNotFound|ConfigurationError"),
    ("sqlalchemy", 60, "python sqlalchemy", "postgresql sqlite orm", "SQLAlchemy",
     "session|relationship|query|engine|declarative model", "IntegrityError|DetachedInstanceError"),
    ("sql", 150, "sql", "join group-by subquery sql-server oracle", "SQL|T-SQL",
     "query|join|subquery|GROUP BY clause|window function|CTE|foreign key",
     "Syntax error|Ambiguous column"),
    ("postgresql", 120, "postgresql sql", "indexing jsonb plpgsql", "PostgreSQL|Postgres",
     "index|jsonb column|trigger|sequence|transaction|materialized view", "deadlock detected"),
    ("mysql", 80, "mysql sql", "php innodb", "MySQL", "table|stored procedure|query|charset",
     "Error 1064|Lock wait timeout exceeded"),
    ("javascript", 300, "javascript", "html css arrays dom promise", "JavaScript|JS",
     "promise|array|object|fetch request|event listener|DOM element|closure",
     "TypeError: undefined is not a function|Uncaught ReferenceError|CORS error"),
    ("typescript", 100, "javascript typescript", "angular generics", "TypeScript",
     "interface|generic type|union type|enum", "Type 'string' is not assignable"),
    ("react", 100, "javascript reactjs", "react-hooks redux next.js", "React",
     "useEffect hook|component|state update|context", "Too many re-renders"),
    ("node", 80, "javascript node.js", "express npm", "Node.js|Express",
     "stream|middleware|npm package|event emitter", "ERR_REQUIRE_ESM|ECONNRESET"),
    ("linux", 120, "linux", "ubuntu systemd permissions", "Linux|Ubuntu",
     "cron job|systemd service|file|process", "Permission denied"),
    ("bash", 100, "bash linux", "shell sed awk", "Bash|bash", "variable|array|loop|heredoc",
     "unbound variable|command not found"),
    ("docker", 50, "docker linux", "docker-compose kubernetes dockerfile", "Docker",
     "container|image|volume", "no space left on device"),
    ("java", 120, "java", "spring-boot android maven arrays multithreading", "Java|Spring Boot",
     "ArrayList|HashMap|stream|thread pool|interface|enum",
     "NullPointerException|ClassCastException"),
    ("csharp", 90, "c#", ".net asp.net-core linq entity-framework", "C#|.NET",
     "List|dictionary|LINQ query|async method|DbContext", "InvalidOperationException"),
    ("cpp", 70, "c++", "c++17 templates pointers stl", "C++",
     "vector|template|smart pointer|iterator", "Segmentation fault|undefined reference"),
    ("go", 30, "go", "goroutine channel http", "Go|Golang", "goroutine|channel|slice|struct",
     "panic: assignment to entry in nil map"),
    ("rust", 30, "rust", "borrow-checker lifetime cargo", "Rust",
     "Vec|lifetime|trait object|closure", "borrowed value does not live long enough"),
    ("git", 40, "git", "github merge rebase", "Git", "branch|commit|submodule|rebase",
     "fatal: refusing to merge unrelated histories"),
)
_SU = (
    ("windows", 0, "windows", "windows-10 windows-11 powershell", "Windows 11|Windows",
     "taskbar|update|driver", "BSOD"),
    ("macos", 120, "macos", "terminal finder homebrew", "macOS",
     "Finder window|keyboard shortcut|disk", "kernel panic"),
    ("linux", 100, "linux", "ubuntu bash ssh", "Ubuntu|Linux", "SSH key|partition|terminal",
     "Permission denied"),
    ("excel", 80, "microsoft-excel", "worksheet-function vba", "Excel", "formula|pivot table|macro",
     "#VALUE!"),
)
_SF = (
    ("nginx", 0, "nginx", "reverse-proxy ssl linux", "nginx",
     "reverse proxy|location block|upstream", "502 Bad Gateway"),
    ("dns", 100, "domain-name-system", "bind windows-server", "DNS", "CNAME record|zone|resolver",
     "SERVFAIL"),
    ("postgresql", 80, "postgresql", "linux backup replication", "PostgreSQL",
     "replica|backup|WAL archive", "FATAL: too many connections"),
    ("apache", 100, "apache-2.4", "mod-rewrite ssl", "Apache",
     "virtual host|rewrite rule|.htaccess file", "AH00558"),
)
_MATH = (  # the last column holds properties ("convergent"), not errors
    ("calculus", 0, "calculus", "integration limits derivatives", "Calculus|calculus",
     "integral ∫ e^{-x²} dx|limit|derivative|Taylor series", "convergent"),
    ("linear-algebra", 120, "linear-algebra", "matrices eigenvalues-eigenvectors", "linear algebra",
     "matrix|eigenvalue|determinant|vector space", "diagonalizable"),
    ("probability", 100, "probability", "statistics combinatorics", "probability",
     "random variable|distribution|expected value", "independent"),
    ("number-theory", 80, "number-theory", "elementary-number-theory prime-numbers",
     "number theory", "prime|congruence|sum ∑ 1/n²", "bounded"),
)
_UNIX = (
    ("shell", 0, "shell", "bash zsh posix", "bash|sh|zsh", "pipe|here-string|glob|variable",
     "unbound variable"),
    ("systemd", 80, "systemd", "services journald", "systemd", "unit file|timer|journal",
     "failed with result 'exit-code'"),
    ("text", 60, "text-processing", "awk sed grep", "awk|sed", "column|pattern|field separator",
     "unterminated string"),
)

# api parameter, name, url, audience, launch, closed beta, questions, topics, colours
SITE_DEFS = (
    ("stackoverflow", "Stack Overflow", "https://stackoverflow.com",
     "professional and enthusiast programmers", 1221436800, 1217462400, 3000, _SO,
     "#E0EAF1 #3E6D8E #0077CC"),
    ("superuser", "Super User", "https://superuser.com", "computer enthusiasts and power users",
     1250553600, 1247529600, 400, _SU, "#FFFFFF #1087A4 #1086A4"),
    ("serverfault", "Server Fault", "https://serverfault.com", "system and network administrators",
     1243296000, 1241049600, 400, _SF, "#F3F1D9 #444444 #10456A"),
    ("math", "Mathematics", "https://math.stackexchange.com",
     "people studying math at any level and professionals in related fields",
     1279584000, 1279065600, 400, _MATH, "#EEE #444 #0077CC"),
    ("unix", "Unix & Linux", "https://unix.stackexchange.com",
     "users of Linux, FreeBSD and other Un*x-like operating systems", 1282521600, 1281484800, 300,
     _UNIX, "#E7ECF0 #44546A #2A6496"),
)

_FIRST = ("Anna James Wei Priya Carlos Olga Ahmed Yuki Liam Fatima Noah Sofia Mateo Ines "
          "Omar Elena José Zoë Łukasz Søren Chloé Björn").split()
_LAST = ("Smith Chen Kumar García Petrova Hassan Tanaka Müller O'Neil Rossi Silva Novak Kowalski "
         "Nguyen Dubois Jensen").split()
_MATH_ACTS = ("compute", "evaluate", "bound", "simplify")
_CLOSED_REASONS = ("Duplicate", "Needs more focus", "Needs details or clarity", "Opinion-based")


def slugify(text, limit=80):
    """The URL slug Stack Exchange appends to a question or user link."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:limit].rstrip("-") or "question"


def content_license(created):
    if created >= _CC_40:
        return "CC BY-SA 4.0"
    return "CC BY-SA 3.0" if created >= _CC_30 else "CC BY-SA 2.5"


def make_site(api, name, url, audience, launch, closed_beta, colours):
    """A /sites item in the key order of the captured answer."""
    bg, fg, link = colours.split()
    cdn = f"https://cdn.sstatic.net/Sites/{api}/Img"
    return {
        "styling": {"tag_background_color": bg, "tag_foreground_color": fg, "link_color": link},
        "related_sites": [{"relation": "meta", "api_site_parameter": f"meta.{api}",
                           "site_url": url.replace("https://", "https://meta."),
                           "name": f"{name} Meta"}],
        "markdown_extensions": ["Prettify"], "launch_date": launch,
        "closed_beta_date": closed_beta, "site_state": "normal",
        "high_resolution_icon_url": f"{cdn}/apple-touch-icon@2.png",
        "favicon_url": f"{cdn}/favicon.ico", "icon_url": f"{cdn}/apple-touch-icon.png",
        "audience": audience, "site_url": url, "api_site_parameter": api,
        "logo_url": f"{cdn}/logo.png", "name": name, "site_type": "main_site",
    }


def _users(rng, api, url, count):
    users = []
    for _ in range(count):
        uid = rng.randint(1000, 32_000_000)
        if rng.random() < 0.2:
            name = f"user{uid}"
        else:
            name = f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
        digest = hashlib.md5(f"{api}:{uid}".encode()).hexdigest()
        reputation = min(int(rng.lognormvariate(4, 2.2)) + 1, 1_400_000)
        owner = {"account_id": uid + rng.randint(1, 9_000_000), "reputation": reputation,
                 "user_id": uid, "user_type": "registered"}
        if rng.random() < 0.25:
            owner["accept_rate"] = rng.randint(40, 100)
        owner["profile_image"] = f"https://www.gravatar.com/avatar/{digest}?s=256&d=identicon&r=PG"
        owner["display_name"] = name
        owner["link"] = f"{url}/users/{uid}/{slugify(name)}"
        users.append(owner)
    return users


def _title(rng, topic, math):
    _, _, _, _, techs, things, errors = topic
    things, errors = things.split("|"), errors.split("|")
    thing = rng.choice(things)
    return rng.choice(_MATH_TEMPLATES if math else _CODE_TEMPLATES).format(
        act=rng.choice(_MATH_ACTS if math else _ACTS), thing=thing,
        thing2=rng.choice([t for t in things if t != thing] or things),
        tech=rng.choice(techs.split("|")), problem=rng.choice(errors if math else _PROBLEMS),
        error=rng.choice(errors),
    )


def make_question(rng, *, qid, created, activity, tags, owner, title, url):
    """One question item in canonical key order; the optional fields drawn from rng."""
    answers = rng.choice((0, 0, 1, 1, 1, 2, 2, 3, 4, 6))
    if rng.random() < 0.03:
        answers += rng.randint(0, 30)
    accepted = answers > 0 and rng.random() < 0.5
    closed = rng.random() < 0.04
    score = int(rng.lognormvariate(0.8, 1.4)) - rng.choice((0, 0, 0, 1, 3))
    views = int((activity - created) / 86400 * rng.uniform(0.3, 12)) + 40 * max(score, 0)
    item = {"tags": tags, "owner": owner,
            "is_answered": accepted or (answers > 0 and rng.random() < 0.6),
            "view_count": max(5, views)}
    if closed:
        item["closed_date"] = rng.randint(created, activity)
    if accepted:
        item["accepted_answer_id"] = qid + rng.randint(1, 90)  # ids leave room for answers
    item.update(answer_count=answers, score=score, last_activity_date=activity,
                creation_date=created)
    if rng.random() < 0.4:
        item["last_edit_date"] = rng.randint(created, activity)
    item.update(question_id=qid, content_license=content_license(created),
                link=f"{url}/questions/{qid}/{slugify(title)}")
    if closed:
        item["closed_reason"] = rng.choice(_CLOSED_REASONS)
    item["title"] = title
    return item


def _hostile(rng, users, url):
    """The awkward Stack Overflow items, newest by activity in the order of HOSTILE_QUESTION_IDS."""
    named = users[0]
    owners = {"deleted_owner": DELETED_OWNER,
              "img": {**DELETED_OWNER, "display_name": "user67890"},
              "owner_name": {**named, "display_name": HOSTILE_DISPLAY_NAME,
                             "link": f"{url}/users/{named['user_id']}/"
                                     f"{slugify(HOSTILE_DISPLAY_NAME)}"}}
    out = []
    for rank, (kind, qid) in enumerate(HOSTILE_QUESTION_IDS.items()):
        created = _START + 3 * 86400 if kind == "quotes" else DATA_NOW - (40 + rank) * 86400
        tags = ["python", "iterator", "generator"] if kind == "quotes" else ["python", "html"]
        out.append(make_question(rng, qid=qid, created=created, tags=tags,
                                 activity=DATA_NOW - (rank + 1) * 900, url=url,
                                 owner=dict(owners.get(kind, users[rank + 1])),
                                 title=HOSTILE_TITLES[kind]))
    # The famous one keeps its real numbers.
    out[0].update(score=13135, view_count=3499866, answer_count=51, accepted_answer_id=231855,
                  is_answered=True)
    return out


def generate_site(index):
    """All questions of SITE_DEFS[index]."""
    api, _, url, _, launch, _, count, topics, _ = SITE_DEFS[index]
    rng = random.Random(SEED + index)
    users = _users(rng, api, url, max(150, count // 3))
    hostile = _hostile(rng, users, url) if api == "stackoverflow" else []
    plan = []
    for topic in topics[1:]:
        plan += [topic] * topic[1]
    plan += [topics[0]] * (count - len(hostile) - len(plan))
    rng.shuffle(plan)
    dates = sorted(rng.randint(max(_START, launch), DATA_NOW - 86400) for _ in plan)
    # Ids grow with creation date, as on the real sites.
    gap = (79_000_000 if api == "stackoverflow" else 5_000_000) // count
    qid, reserved = gap, set(HOSTILE_QUESTION_IDS.values())
    questions = []
    for topic, created in zip(plan, dates, strict=True):
        qid += rng.randint(gap // 2, gap * 3 // 2)
        while qid in reserved:
            qid += 1
        optional = topic[3].split()
        tags = topic[2].split() + rng.sample(optional, rng.randint(0, min(3, len(optional))))
        if rng.random() < 0.015:
            owner = dict(DELETED_OWNER, display_name=f"user{rng.randint(10_000, 9_999_999)}")
        else:
            owner = dict(rng.choice(users))
        # Ordinary activity stays two hours below DATA_NOW, under the hostile items.
        activity = rng.randint(created, DATA_NOW - 7200)
        questions.append(make_question(rng, qid=qid, created=created, activity=activity,
                                       tags=tags, owner=owner, url=url,
                                       title=_title(rng, topic, api == "math")))
    return questions + hostile


@cache
def pristine():
    """{api_site_parameter: (site item, tuple of questions)}; callers copy before changing."""
    return {d[0]: (make_site(*d[:6], d[8]), tuple(generate_site(i)))
            for i, d in enumerate(SITE_DEFS)}
