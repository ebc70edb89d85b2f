"""The rasa-sdk side of the load comparison: the same work as `order_status.agent`.

One GET to the order API (nginx on loopback), two slots set from its answer, one message
to the user. The HTTP client is aiohttp with one session per worker process, reused across
calls (keep-alive), as a production action server would have it.
"""

import os

import aiohttp
from rasa_sdk import Action
from rasa_sdk.events import SlotSet

ORDERS_URL = os.environ.get("ORDERS_URL", "http://127.0.0.1:18080")
TIMEOUT = aiohttp.ClientTimeout(total=2)


class OrderStatus(Action):
    session = None

    def name(self) -> str:
        return "order_status"

    async def run(self, dispatcher, tracker, domain):
        # Made on the first call, inside the worker's event loop.
        if OrderStatus.session is None:
            OrderStatus.session = aiohttp.ClientSession(timeout=TIMEOUT)
        order_id = tracker.get_slot("order_id")
        try:
            async with OrderStatus.session.get(f"{ORDERS_URL}/orders/{order_id}") as answer:
                answer.raise_for_status()
                order = await answer.json()
        except (aiohttp.ClientError, TimeoutError):
            dispatcher.utter_message(text="Sorry, I couldn't reach our order system.")
            return []
        dispatcher.utter_message(text=f"Order {order_id} is {order['status']}.")
        return [SlotSet("status", order["status"]), SlotSet("eta", order["eta"])]
