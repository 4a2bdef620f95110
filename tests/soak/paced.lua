-- SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
--
-- wrk at a set pace, with an exact count (tests/soak/soak.sh):
--
--	wrk -t1 -cC -dDs -s paced.lua URL -- STOP DELAY_MS
--
-- Each connection waits DELAY_MS before each request, so C connections make at most
-- C * 1000 / DELAY_MS requests a second however fast the server is: a load below saturation.
-- After STOP seconds (a few less than D) no connection sends any more, so nothing is in flight
-- when wrk stops and its "N requests in" counts every request the server answered. (Run it with
-- a --timeout longer than D - STOP: wrk counts an idle connection's age as a timeout.)

local stop, pause

function init(args)
	stop = os.time() + tonumber(args[1])
	pause = tonumber(args[2])
end

function delay()
	if os.time() >= stop then
		return 24 * 3600 * 1000
	end
	return pause
end
