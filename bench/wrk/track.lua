-- POST /v1/affiliate/track for an active partner, a new visitor every request.
dofile(os.getenv("WRK_DIR") .. "/common.lua")

function request()
  sent = sent + 1
  local body = string.format('{"code":"STRESS0","url":"https://example.com/?ref=STRESS0","visitorId":"wrk-%s-%d-%d"}',
    os.getenv("RUN_ID"), thread_number, sent)
  return wrk.format("POST", "/v1/affiliate/track", headers, body)
end
