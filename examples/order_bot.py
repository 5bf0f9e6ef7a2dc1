"""A multi-step pizza order: conversation state plus postbacks.

Type "order"; pick a pizza, a size, confirm. The state of each conversation (the step and the
order so far) lives in the bot's SQLite file, so a restarted bot resumes where it was.

Serve it: ``rcskit run examples/order_bot.py:bot``.
"""

from __future__ import annotations

from typing import Any

from rcskit.app import Bot
from rcskit.message import Message, Reply

bot = Bot(name="order-bot")

PIZZAS = {"margherita": "Margherita", "funghi": "Funghi", "diavola": "Diavola"}
SIZES = {"s": "small", "m": "medium", "l": "large"}


def ask(text: str, choices: dict[str, str], prefix: str) -> Message:
    """A question with one suggested reply per choice (postback ``prefix:key``)."""
    return Message(
        text, suggestions=[Reply(label, f"{prefix}:{key}") for key, label in choices.items()]
    )


@bot.on_message("order")
async def start(state, reply) -> None:
    state.clear()
    state["step"] = "pizza"
    await reply(ask("Which pizza?", PIZZAS, "pizza"))


@bot.on_postback(prefix="pizza:")
async def pizza(event, state, reply) -> None:
    choice = event.postback_data.removeprefix("pizza:")
    if state.get("step") != "pizza" or choice not in PIZZAS:
        await reply("Type 'order' to start an order.")
        return
    state.update(step="size", pizza=choice)
    await reply(
        ask(f"{PIZZAS[choice]}: which size?", {k: v.title() for k, v in SIZES.items()}, "size")
    )


@bot.on_postback(prefix="size:")
async def size(event, state, reply) -> None:
    choice = event.postback_data.removeprefix("size:")
    if state.get("step") != "size" or choice not in SIZES:
        await reply("Type 'order' to start an order.")
        return
    state.update(step="confirm", size=choice)
    summary = f"A {SIZES[choice]} {PIZZAS[state['pizza']]}. Confirm?"
    await reply(ask(summary, {"yes": "Yes", "no": "No"}, "confirm"))


@bot.on_postback(prefix="confirm:")
async def confirm(event, state, reply) -> None:
    if state.get("step") != "confirm":
        await reply("Type 'order' to start an order.")
        return
    if event.postback_data == "confirm:yes":
        orders: list[dict[str, Any]] = state.setdefault("orders", [])
        orders.append({"pizza": state["pizza"], "size": state["size"]})
        await reply(
            f"Order #{len(orders)} confirmed: {SIZES[state['size']]} {PIZZAS[state['pizza']]}."
        )
    else:
        await reply("Order cancelled.")
    for key in ("step", "pizza", "size"):
        state.pop(key, None)


@bot.on_message("orders")
async def history(state, reply) -> None:
    orders = state.get("orders", [])
    if not orders:
        await reply("No orders yet. Type 'order'.")
        return
    lines = [f"#{i}: {SIZES[o['size']]} {PIZZAS[o['pizza']]}" for i, o in enumerate(orders, 1)]
    await reply("Your orders:\n" + "\n".join(lines))


@bot.on_message()
async def fallback(state, reply) -> None:
    step = state.get("step")
    if step:
        await reply(
            f"Please tap one of the suggestions (waiting for: {step}), or type 'order' to restart."
        )
    else:
        await reply(Message("Hi! I take pizza orders.", suggestions=[Reply("Order", "start")]))


@bot.on_postback("start")
async def start_from_chip(state, reply) -> None:
    await start(state, reply)
