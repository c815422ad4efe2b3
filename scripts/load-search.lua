-- wrk script for scripts/load-test: POST /api/search with the 18 colour-shape queries in turn.
local colours = {"red", "green", "blue", "yellow", "purple", "orange"}
local shapes = {"circle", "square", "triangle"}
local bodies = {}
for _, colour in ipairs(colours) do
  for _, shape in ipairs(shapes) do
    bodies[#bodies + 1] = string.format('{"text": "a %s %s", "k": 24}', colour, shape)
  end
end
local counter = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

request = function()
  counter = counter + 1
  return wrk.format(nil, "/api/search", nil, bodies[(counter % #bodies) + 1])
end
