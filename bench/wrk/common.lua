-- Shared by the wrk scripts: the tenant's API key (API_KEY) and a number per thread,
-- so every thread writes different ids.
local next_thread = 1

function setup(thread)
  thread:set("thread_number", next_thread)
  next_thread = next_thread + 1
end

headers = {
  ["content-type"] = "application/json",
  ["x-api-key"] = os.getenv("API_KEY"),
}
sent = 0
