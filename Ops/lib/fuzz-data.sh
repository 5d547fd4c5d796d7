# Test data for Ops/api-fuzz.sh (source it): seeds the fuzz database through the API (and, for what only the sync
# engine writes, with SQL matching the real schema), then writes the schemathesis configuration that hands those names
# and ids to the operations that take them, so that path parameters reach existing resources.
#
#   seed_fuzz_data URL TOKEN DB_URL PASSWORD_FILE OUT   (needs `log`)
#
# What exists afterwards (memory repositories: no network):
#   repositories  fuzz-left-repo, fuzz-right-repo (used by the collections), fuzz-spare-repo-1..3 (unused: 1 replaced,
#                 2 and 3 deleted)
#   models        fuzz-model (used), fuzz-spare-model (unused: replaced), fuzz-doomed-model (unused: deleted)
#   collections   fuzz-left, fuzz-right (joined by fuzz-integration), fuzz-spare (unused)
#   integrations  fuzz-integration (running), fuzz-spare-integration (stopped: replaced), fuzz-doomed-integration (deleted)
#   jobs          a Process All and an Initiate Synchronization request of fuzz-integration
#   pairs         40 of fuzz-integration (the 28 newest to delete); activity: an open error per pair, and an open blocker
# Deletions get only the spare names, so that the others stay for the rest of the run.

fuzz_api() {
    local method=$1 path=$2 body=${3:-}
    local answer
    answer=$(curl -sS -X "$method" -H "Authorization: Token $FUZZ_TOKEN" -H 'Content-Type: application/json' \
        ${body:+--data "$body"} -w '\n%{http_code}' "$FUZZ_URL$path")
    local code=${answer##*$'\n'}
    if [ "${code:0:1}" != 2 ]; then
        log "seeding: $method $path answered $code: ${answer%$'\n'*}"
        return 1
    fi
}

seed_fuzz_data() {
    FUZZ_URL=$1 FUZZ_TOKEN=$2
    local db=$3 password_file=$4 out=$5
    local repo name
    for repo in fuzz-left-repo fuzz-right-repo fuzz-spare-repo-1 fuzz-spare-repo-2 fuzz-spare-repo-3; do
        fuzz_api POST /api/v1/repositories "{\"name\":\"$repo\",\"type\":\"memory\",\"url\":\"http://memory.invalid/$repo\"}"
    done
    local fields='[{"name":"title","type":"string","required":true},{"name":"status","type":"single-select","values":["open","done"]}]'
    fuzz_api POST /api/v1/models "{\"name\":\"fuzz-model\",\"fields\":$fields}"
    fuzz_api POST /api/v1/models "{\"name\":\"fuzz-spare-model\",\"fields\":$fields}"
    fuzz_api POST /api/v1/models "{\"name\":\"fuzz-doomed-model\",\"fields\":$fields}"
    local mapping='[{"field":"summary","modelField":"title"},{"field":"state","modelField":"status","valueMap":[{"repository":"new","model":"open"},{"repository":"closed","model":"done"}]}]'
    for name in left right spare; do
        local repository=fuzz-$name-repo
        [ "$name" = spare ] && repository=fuzz-left-repo
        fuzz_api POST /api/v1/collections \
            "{\"name\":\"fuzz-$name\",\"repository\":\"$repository\",\"artifactType\":\"issue\",\"projects\":[\"P-$name\"],\"model\":\"fuzz-model\",\"fields\":$mapping}"
    done
    local flows='{"title":{"leftToRight":"update-normally","rightToLeft":"update-normally"}}'
    fuzz_api POST /api/v1/integrations "{\"name\":\"fuzz-integration\",\"left\":\"fuzz-left\",\"right\":\"fuzz-right\",\"running\":true,\"fieldFlows\":$flows}"
    fuzz_api POST /api/v1/integrations "{\"name\":\"fuzz-spare-integration\",\"left\":\"fuzz-right\",\"right\":\"fuzz-spare\",\"fieldFlows\":$flows}"
    fuzz_api POST /api/v1/integrations "{\"name\":\"fuzz-doomed-integration\",\"left\":\"fuzz-left\",\"right\":\"fuzz-spare\"}"
    fuzz_api POST /api/v1/integrations/fuzz-integration/process-all '{}'
    fuzz_api POST /api/v1/integrations/fuzz-integration/initiate-synchronization '{"side":"left","projects":["P-left"]}'
    # A user of the user operations (the caller is never theirs to change), with a token; a spare token of the caller.
    fuzz_api POST /api/v1/users "{\"username\":\"fuzz-user\",\"roles\":[\"troubleshooting\"],\"password\":\"$(cat "$password_file")-user\"}"
    fuzz_api POST /api/v1/users/fuzz-user/tokens '{"name":"fuzz-user-token"}'
    fuzz_api POST /api/v1/tokens '{"name":"fuzz-spare-token"}'
    # Pairs and failed items are the sync engine's to write: rows as it writes them.
    psql -q -v ON_ERROR_STOP=1 "$db" >/dev/null <<'SQL'
INSERT INTO artifact_pairs (integration_id, left_id, right_id, left_key, right_key, left_url, right_url, left_project,
    right_project, created_from, status, status_reason)
SELECT i.id, 'L-' || n, 'R-' || n, 'P-left-' || n, 'P-right-' || n, 'http://memory.invalid/L-' || n,
    'http://memory.invalid/R-' || n, 'P-left', 'P-right', CASE WHEN n % 2 = 0 THEN 'left' ELSE 'right' END,
    (ARRAY['ok', 'conflict', 'error', 'twinless'])[1 + n % 4], CASE WHEN n % 4 = 0 THEN NULL ELSE 'seeded for fuzzing' END
FROM integrations i, generate_series(1, 40) n WHERE i.name = 'fuzz-integration';
INSERT INTO activity (kind, status, code, integration_id, repository_id, pair_id, artifact_id, side, message, occurrences)
SELECT 'error', 'open', 'update_failed', p.integration_id, r.id, p.id, p.left_id, 'left',
    'update of ' || p.left_key || ' failed: seeded for fuzzing', 1 + p.id::integer % 3
FROM artifact_pairs p JOIN repositories r ON r.name = 'fuzz-left-repo' ORDER BY p.id;
INSERT INTO activity (kind, status, code, integration_id, repository_id, message)
SELECT 'blocker', 'open', 'repository_unreachable', i.id, r.id, 'fuzz-right-repo is unreachable: seeded for fuzzing'
FROM integrations i JOIN repositories r ON r.name = 'fuzz-right-repo' WHERE i.name = 'fuzz-integration';
SQL
    local q="psql -qtA $db -c"
    local pairs activity jobs spare_pairs connections spare_connections
    pairs=$($q "SELECT string_agg(id::text, ', ' ORDER BY id) FROM (SELECT id FROM artifact_pairs ORDER BY id LIMIT 12) p")
    spare_pairs=$($q "SELECT string_agg(id::text, ', ' ORDER BY id) FROM (SELECT id FROM artifact_pairs ORDER BY id DESC LIMIT 28) p")
    activity=$($q "SELECT string_agg(id::text, ', ' ORDER BY id) FROM activity")
    jobs=$($q "SELECT string_agg(id::text, ', ' ORDER BY id) FROM integration_requests")
    local audits
    audits=$($q "SELECT string_agg(id::text, ', ' ORDER BY id) FROM audit_log")
    local user_tokens own_tokens
    user_tokens=$($q "SELECT string_agg(t.id::text, ', ') FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE u.username = 'fuzz-user'")
    own_tokens=$($q "SELECT string_agg(id::text, ', ') FROM api_tokens WHERE name = 'fuzz-spare-token'")
    connections=$($q "SELECT string_agg(id::text, ', ' ORDER BY id) FROM repositories")
    spare_connections=$($q "SELECT string_agg(id::text, ', ' ORDER BY id) FROM repositories WHERE name IN ('fuzz-spare-repo-2', 'fuzz-spare-repo-3')")
    local password today
    password=$(cat "$password_file")
    today=$(date -u +%F)
    local from to
    from=$(for d in 365 90 30 10; do printf '"%s", ' "$(date -u -d "$today - $d days" +%F)"; done)
    to=$(for d in 0 1 10; do printf '"%s", ' "$(date -u -d "$today - $d days" +%F)"; done)
    # Bound parameters take a dictionary value with this probability, and a generated one otherwise (negative cases
    # included): most cases reach an existing resource, the others still probe the 404 and 422 paths.
    cat >"$out/schemathesis.toml" <<TOML
# Written by Ops/lib/fuzz-data.sh for this run: the names and ids of the seeded data.
[dictionaries]
repositories = { values = ["fuzz-left-repo", "fuzz-right-repo", "fuzz-spare-repo-1"] }
replaced-repositories = { values = ["fuzz-spare-repo-1"] }
spare-repositories = { values = ["fuzz-spare-repo-2", "fuzz-spare-repo-3"] }
models = { values = ["fuzz-model", "fuzz-spare-model"] }
replaced-models = { values = ["fuzz-spare-model"] }
spare-models = { values = ["fuzz-doomed-model"] }
collections = { values = ["fuzz-left", "fuzz-right", "fuzz-spare"] }
left-collections = { values = ["fuzz-left"] }
right-collections = { values = ["fuzz-right", "fuzz-spare"] }
spare-collections = { values = ["fuzz-spare"] }
integrations = { values = ["fuzz-integration", "fuzz-spare-integration"] }
replaced-integrations = { values = ["fuzz-spare-integration"] }
spare-integrations = { values = ["fuzz-doomed-integration"] }
model-fields = { values = ["title", "status"] }
projects = { values = ["P-left", "P-right", "P-spare"] }
pairs = { values = [$pairs] }
spare-pairs = { values = [$spare_pairs] }
activity = { values = [$activity] }
jobs = { values = [$jobs] }
audits = { values = [$audits] }
connections = { values = [$connections] }
spare-connections = { values = [$spare_connections] }
from-days = { values = [${from%, }] }
to-days = { values = [${to%, }] }
password = { values = ["$password"] }
users = { values = ["fuzz-user"] }
user-tokens = { values = [$user_tokens] }
own-tokens = { values = [$own_tokens] }

# Valid data must be accepted (2xx, or 401, 403, 404, 409): checked wherever the document can say what the server
# takes — every operation but these, whose validity depends on what a schema cannot express: the stored state (a
# replaced entity's name is the path's; a collection's fields are its model's; an integration joins two different
# collections of one model; a connection's stored authentication mode decides which parameters it takes, and a test or
# a new connection needs the secret of the mode it names; an Initiate Synchronization's projects are its collections'),
# relations between parameters (the metrics period ends after it starts), durations beyond what the server can hold
# (the settings' intervals), and the caller's own password change (only the stored current password is accepted, and
# the fuzzer's negative mode can yield a schema-valid body with another one). Text with NUL characters, which
# PostgreSQL cannot store, is outside every string's pattern and refused everywhere (422); a new repository's secrets
# are strings (NewRepository), not {"set": true}. All other checks run everywhere (the default of every check;
# api-fuzz.sh gives no --checks, which would override this file).

[[operations]]
include-operation-id = ["createCollection", "replaceCollection", "createIntegration", "replaceIntegration", "replaceModel",
    "replaceRepository", "getMetrics", "updateSettings", "createIssueTrackerConnection", "updateIssueTrackerConnection",
    "testIssueTrackerConnection", "initiateSynchronization", "changeOwnPassword"]
checks = { positive_data_acceptance = { enabled = false } }

# Filters of the list operations.
[parameters]
"query.integration" = { dictionary = "integrations", probability = 0.5 }

[[operations]]
include-operation-id = ["getRepository", "testRepository"]
parameters = { "path.name" = { dictionary = "repositories", probability = 0.8 } }
[[operations]]
include-operation-id = "replaceRepository"
parameters = { "path.name" = { dictionary = "replaced-repositories", probability = 0.8 }, "body.name" = { dictionary = "replaced-repositories", probability = 0.8 } }
[[operations]]
include-operation-id = ["listQueueJobs", "pauseQueue", "resumeQueue", "retryDeadJobs", "deleteDeadJobs"]
parameters = { "path.repository" = { dictionary = "repositories", probability = 0.8 } }
[[operations]]
include-operation-id = "deleteRepository"
parameters = { "path.name" = { dictionary = "spare-repositories", probability = 0.8 } }

[[operations]]
include-operation-id = "getModel"
parameters = { "path.name" = { dictionary = "models", probability = 0.8 } }
[[operations]]
include-operation-id = "replaceModel"
parameters = { "path.name" = { dictionary = "replaced-models", probability = 0.8 }, "body.name" = { dictionary = "replaced-models", probability = 0.8 } }
[[operations]]
include-operation-id = "deleteModel"
parameters = { "path.name" = { dictionary = "spare-models", probability = 0.8 } }

# A collection names an existing repository and model, and maps their fields.
[[operations]]
include-operation-id = "createCollection"
parameters = { "body.repository" = { dictionary = "repositories", probability = 0.9 }, "body.model" = { dictionary = "models", probability = 0.9 }, "body.fields[*].modelField" = { dictionary = "model-fields", probability = 0.9 } }
[[operations]]
include-operation-id = ["getCollection", "replaceCollection"]
parameters = { "path.name" = { dictionary = "spare-collections", probability = 0.8 }, "body.name" = { dictionary = "spare-collections", probability = 0.8 }, "body.repository" = { dictionary = "repositories", probability = 0.9 }, "body.model" = { dictionary = "models", probability = 0.9 }, "body.fields[*].modelField" = { dictionary = "model-fields", probability = 0.9 } }
[[operations]]
include-operation-id = "deleteCollection"
parameters = { "path.name" = { dictionary = "collections", probability = 0.8 } }

# An integration joins two different collections of one model; its conditions test the model's fields.
[[operations]]
include-operation-id = "createIntegration"
parameters = { "body.left" = { dictionary = "left-collections", probability = 0.9 }, "body.right" = { dictionary = "right-collections", probability = 0.9 }, "body.filters.conditions[*].field" = { dictionary = "model-fields", probability = 0.9 }, "body.conditionalFieldFlows[*].when[*].field" = { dictionary = "model-fields", probability = 0.9 } }
[[operations]]
include-operation-id = "replaceIntegration"
parameters = { "path.name" = { dictionary = "replaced-integrations", probability = 0.8 }, "body.name" = { dictionary = "replaced-integrations", probability = 0.8 }, "body.left" = { dictionary = "left-collections", probability = 0.9 }, "body.right" = { dictionary = "right-collections", probability = 0.9 }, "body.filters.conditions[*].field" = { dictionary = "model-fields", probability = 0.9 }, "body.conditionalFieldFlows[*].when[*].field" = { dictionary = "model-fields", probability = 0.9 } }
[[operations]]
include-operation-id = ["getIntegration", "runIntegration", "stopIntegration", "processAll", "initiateSynchronization"]
parameters = { "path.name" = { dictionary = "integrations", probability = 0.8 }, "body.projects[*]" = { dictionary = "projects", probability = 0.7 } }
[[operations]]
include-operation-id = "deleteIntegration"
parameters = { "path.name" = { dictionary = "spare-integrations", probability = 0.8 } }

[[operations]]
include-operation-id = ["getActivity", "retryActivity", "clearActivity", "clearAndIgnoreActivity"]
parameters = { "path.id" = { dictionary = "activity", probability = 0.8 } }
[[operations]]
include-operation-id = "actOnActivity"
parameters = { "body.ids[*]" = { dictionary = "activity", probability = 0.8 } }
[[operations]]
include-operation-id = "revertAuditEntry"
parameters = { "path.id" = { dictionary = "audits", probability = 0.8 } }
[[operations]]
include-operation-id = "getBackgroundJob"
parameters = { "path.id" = { dictionary = "jobs", probability = 0.8 } }
[[operations]]
include-operation-id = "getPair"
parameters = { "path.id" = { dictionary = "pairs", probability = 0.8 } }
[[operations]]
include-operation-id = "deletePair"
parameters = { "path.id" = { dictionary = "spare-pairs", probability = 0.8 } }

# The metrics period: any of these from, to pairs is a valid period (from <= to, at most 366 days, to <= today).
[[operations]]
include-operation-id = "getMetrics"
parameters = { "query.from" = { dictionary = "from-days", probability = 0.7 }, "query.to" = { dictionary = "to-days", probability = 0.7 } }

[[operations]]
include-operation-id = "getIssueTrackerConnection"
parameters = { "path.connection_id" = { dictionary = "connections", probability = 0.8 } }
[[operations]]
include-operation-id = ["updateIssueTrackerConnection", "deleteIssueTrackerConnection"]
parameters = { "path.connection_id" = { dictionary = "spare-connections", probability = 0.8 } }

# The caller's own password: "changed" to itself, so that it stays known for the rest of the run. Always the right
# one: wrong ones lock the account. The coverage phase, which cannot send it, is left out.
[[operations]]
include-operation-id = "changeOwnPassword"
parameters = { "body.currentPassword" = { dictionary = "password", probability = 1.0 }, "body.newPassword" = { dictionary = "password", probability = 1.0 } }
phases = { coverage = { enabled = false } }

# Valid requests of these name existing entities, which only the dictionaries above know; the coverage phase does not
# use them (nor, in the runs of one risky operation, ids seen in other answers), so there it sends only invalid data,
# and the fuzzing phase the valid.
[[operations]]
include-operation-id = ["createCollection", "replaceCollection", "createIntegration", "replaceIntegration", "replaceModel",
    "replaceRepository", "revokeToken", "revokeUserToken"]
phases = { coverage = { generation = { mode = "negative" } } }

[[operations]]
include-operation-id = ["getUser", "updateUser", "deleteUser", "setUserPassword", "listUserTokens", "createUserToken"]
parameters = { "path.username" = { dictionary = "users", probability = 0.8 } }
[[operations]]
include-operation-id = "revokeUserToken"
parameters = { "path.username" = { dictionary = "users", probability = 0.8 }, "path.id" = { dictionary = "user-tokens", probability = 0.8 } }
[[operations]]
include-operation-id = "revokeToken"
parameters = { "path.id" = { dictionary = "own-tokens", probability = 0.8 } }
TOML
}
