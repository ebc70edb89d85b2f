-- wrk script: POSTs the same Rasa webhook body (webhook.json, given after `--`) to
-- rasa-sdk and to agentc. Each request is for one of 1,024 conversations per wrk thread,
-- as an assistant serves many at once (agentc handles one conversation's calls in order),
-- and is a new call: Rasa's tracker grows with every event, so no two calls carry the same
-- body (`@CALL@` in `latest_event_time` is the run's start second, the thread and the
-- request's number: the warm-up's bodies are not sent again by the run after it), and
-- agentc, which answers a body it has seen from its journal, cannot win by running less.
-- An answer without the two slots and the reply counts as bad: a server that fails fast
-- must not look fast.

local threads = {}
local next_id = 0

function setup(thread)
    thread:set("id", next_id)
    next_id = next_id + 1
    table.insert(threads, thread)
end

local template
local counter = 0
local run
bad = 0

function init(args)
    local file = assert(io.open(args[1] or "webhook.json", "rb"))
    template = file:read("*a")
    file:close()
    run = os.time()
    wrk.method = "POST"
    wrk.path = "/webhook"
    wrk.headers["Content-Type"] = "application/json"
end

function request()
    counter = counter + 1
    local sender = "c-" .. id .. "-" .. (counter % 1024)
    local body = template:gsub("@SENDER@", sender):gsub("@CALL@", run .. id .. counter)
    return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
    if status ~= 200 or not body:find("shipped", 1, true) or not body:find("2026-11-24", 1, true) then
        bad = bad + 1
    end
end

function done(summary, latency, requests)
    local total = 0
    for _, thread in ipairs(threads) do
        total = total + thread:get("bad")
    end
    io.write(string.format("bad answers: %d\n", total))
end
