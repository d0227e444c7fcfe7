"""The emulator's sites and the words its questions' titles and owners are made of."""

PROBLEMS = (
    "returns None", "is very slow", "hangs forever", "never finishes", "gives the wrong result",
    "is not updated", "leaks memory", "throws an exception", "works locally but not in production",
    "behaves differently on Windows", "is empty",
)
ACTS = (
    "sort", "merge", "convert", "parse", "iterate over", "filter", "serialize", "cancel", "compare",
    "flatten", "copy", "validate", "cache", "reverse", "split", "update", "delete", "test", "mock",
)
CODE_TEMPLATES = (
    "How to {act} the {thing} in {tech}?", "{tech}: {thing} {problem}",
    "My {thing} {problem}, why?", "{tech} {thing} {problem} after upgrading",
    "{error} when trying to {act} the {thing} in {tech}", "Best way to {act} a {thing}",
    "What is the difference between {thing} and {thing2} in {tech}?",
    "Can't {act} {thing} using {tech}", "Is it possible to {act} the {thing} without the {thing2}?",
    "{tech} - how do I {act} the {thing} by key", "{thing} {problem} ({tech})",
)
MATH_TEMPLATES = (
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

FIRST_NAMES = ("Anna James Wei Priya Carlos Olga Ahmed Yuki Liam Fatima Noah Sofia Mateo Ines "
               "Omar Elena José Zoë Łukasz Søren Chloé Björn").split()
LAST_NAMES = ("Smith Chen Kumar García Petrova Hassan Tanaka Müller O'Neil Rossi Silva Novak "
              "Kowalski Nguyen Dubois Jensen").split()
MATH_ACTS = ("compute", "evaluate", "bound", "simplify")
CLOSED_REASONS = ("Duplicate", "Needs more focus", "Needs details or clarity", "Opinion-based")
