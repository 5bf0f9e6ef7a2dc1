"""Echo bot: answers every text with the same text. Serve it: rcskit run examples/echo_bot.py:bot"""

from rcskit.app import Bot

bot = Bot(dedup="memory")


@bot.on_message()
async def echo(event, reply):
    await reply(f"You wrote: {event.text}" if event.text else "Send me some text!")
