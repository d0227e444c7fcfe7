"""`GET /api/search` in the API's OpenAPI document (added by tasks' build_openapi)."""

HTML = "HTML: everything escaped but `<mark>` around the matched words"
COUNTS = {"type": "object", "additionalProperties": {"type": "integer", "minimum": 1}}
HIT = {"type": "object",
       "required": ["site", "question_id", "title", "snippet", "tags", "score",
                    "answer_count", "creation_date", "url"],
       "properties": {
           "site": {"type": "string", "description": "the site's API name"},
           "question_id": {"type": "integer"},
           "title": {"type": "string", "description": HTML},
           "snippet": {"type": "string", "description": HTML},
           "tags": {"type": "array", "items": {"type": "string"}},
           "score": {"type": "integer"},
           "answer_count": {"type": "integer"},
           "creation_date": {"type": "string", "format": "date-time"},
           "url": {"type": "string", "description": "the stored copy: /questions/{site}/{id}"},
       }}
SCHEMAS = {
    "SearchHit": HIT,
    "SearchResults": {
        "type": "object", "required": ["total", "page", "per_page", "hits", "facets"],
        "properties": {
            "total": {"type": "integer", "minimum": 0, "description": "every match"},
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "enum": [25, 50, 100]},
            "hits": {"type": "array", "items": {"$ref": "#/components/schemas/SearchHit"}},
            "facets": {"type": "object", "required": ["site", "tag"], "properties": {
                "site": {**COUNTS, "description": "matches by site, over all matches"},
                "tag": {**COUNTS, "description": "the 10 tags with most matches"}}},
            "notes": {"type": "array", "items": {"type": "string"},
                      "description": "what in the query was not understood, and how it "
                                     "was searched instead"},
        }},
}


def parameter(name, description, schema):
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema}


PATHS = {"/api/search": {"get": {
    "summary": "Full-text search over every stored question and its answers (never calls "
               "the Stack Exchange API)",
    "operationId": "search", "tags": ["search"],
    "parameters": [
        parameter("q", 'words, "phrases", -word, a OR b, tag:, site:, is:answered, '
                       "is:accepted, score:N, answers:N, created:2024-01..2024-06; any text "
                       "is a query", {"type": "string"}),
        parameter("site", "only this site (its API name)", {"type": "string"}),
        parameter("sort", "the order of the hits",
                  {"type": "string", "enum": ["relevance", "votes", "newest", "active"],
                   "default": "relevance"}),
        parameter("page", "page of hits", {"type": "integer", "minimum": 1, "default": 1}),
        parameter("per_page", "hits a page",
                  {"type": "integer", "enum": [25, 50, 100], "default": 25}),
    ],
    "responses": {
        "200": {"description": "the page of hits, the number of matches and the facets",
                "content": {"application/json": {"schema": {
                    "$ref": "#/components/schemas/SearchResults"}}}},
        "400": {"description": "sort, page, per_page or site is not valid",
                "content": {"application/json": {"schema": {
                    "$ref": "#/components/schemas/Errors"}}}},
    }}}}
