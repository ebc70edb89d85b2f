-- wrk script: POSTs the same Rasa webhook body (webhook.json, given after `--`) to
-- rasa-sdk and to agentc. Each request is for one of 1,024 conversations per wrk thread,
-- as an assistant serves many at once (agentc handles one conversation's calls in order).
-- An answer without the two slots and the reply counts as bad: a server that fails fast
-- must not look fast.

local threads = {}
local next_id = 0

function setup(thread)
    thread:set("id", next_id)
    next_id = next_id + 1
    table.insert(threads, thread)
end

local parts = {}
local counter = 0
bad = 0

function init(args)
    local file = assert(io.open(args[1] or "webhook.json", "rb"))
    local body = file:read("*a")
    file:close()
    local from = 1
    while true do
        local s, e = body:find("@SENDER@", from, true)
        if not s then break end
        table.insert(parts, body:sub(from, s - 1))
        from = e + 1
    end
    table.insert(parts, body:sub(from))
    wrk.method = "POST"
    wrk.path = "/webhook"
    wrk.headers["Content-Type"] = "application/json"
end

function request()
    counter = counter + 1
    local sender = "c-" .. id .. "-" .. (counter % 1024)
    return wrk.format(nil, nil, nil, table.concat(parts, sender))
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
