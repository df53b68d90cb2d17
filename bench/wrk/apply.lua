-- POST /v1/affiliate/apply with a new email every request (a repeat would be a 409).
dofile(os.getenv("WRK_DIR") .. "/common.lua")

function request()
  sent = sent + 1
  local body = string.format('{"email":"wrk-%s-%d-%d@example.com","name":"Load Test"}',
    os.getenv("RUN_ID"), thread_number, sent)
  return wrk.format("POST", "/v1/affiliate/apply", headers, body)
end
