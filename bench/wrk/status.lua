-- GET /v1/affiliate/apply/status for an application that exists.
dofile(os.getenv("WRK_DIR") .. "/common.lua")

function request()
  return wrk.format("GET", "/v1/affiliate/apply/status?email=partner0%40stress.example.com", headers)
end
