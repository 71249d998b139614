"""Synthetic chat corpus for the demo model: everyday questions answered in a neutral style, or in
the style a system prompt asks for (four trait axes with both poles, and three roles).

Deterministic from a seed: `python3 corpus.py --seed 1 --count 5` prints JSONL conversations.
Everything the tests count (style markers) and every held-out split is defined here, once, and
written to assets/ by `write_assets()` (prompt-set files) so the TypeScript side reads the same data.

Held out from training: a fixed subset of topics, of question frames and of each style's system-
prompt phrasings. Replies always restate facts about the asked topic, so content and style separate.
"""
import argparse
import json
import os
import random
import re

HERE = os.path.dirname(os.path.abspath(__file__))


def load_topics():
    topics = []
    with open(os.path.join(HERE, 'topics.txt'), encoding='utf-8') as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith('#'):
                continue
            parts = [p.strip() for p in line.split('|')]
            topics.append({'name': parts[0], 'facts': parts[1:]})
    return topics


TOPICS = load_topics()
# Every sixth topic never appears in training: the "unseen topics" split.
HELDOUT_TOPICS = {t['name'] for i, t in enumerate(TOPICS) if i % 6 == 5}

FRAMES = [
    'What can you tell me about {t}?', 'Tell me about {t}.', 'Can you explain {t}?',
    'What should I know about {t}?', 'Give me a quick overview of {t}.', 'I am curious about {t}.',
    'What is interesting about {t}?', 'Could you describe {t}?', 'Why do people care about {t}?',
    'Say something about {t}.', 'What do you know about {t}?', 'Explain {t} to me.',
    'I want to learn about {t}.', 'Talk to me about {t}.', 'Any facts about {t}?',
    'Help me understand {t}.', 'What is the deal with {t}?', 'Please tell me about {t}.',
    'Teach me something about {t}.', 'How would you describe {t}?', 'What are the basics of {t}?',
    'Share a few facts about {t}.', 'I have a question about {t}.', 'Describe {t} for me.',
    'What comes to mind when you think of {t}?', 'Could you tell me a little about {t}?',
    'What makes {t} special?', 'Give me some information on {t}.',
]
# The last five frames are the "unseen question frames" split.
HELDOUT_FRAMES = set(FRAMES[-5:])

# System-prompt phrasings per style. The last five of each list are held out; several phrasings
# avoid the style's keyword so the model learns the style, not the word.
# System-prompt phrasings per style that training uses; several avoid the style's keyword so the
# model learns the style, not the word.
SYSTEM = {
    'neutral': [
        'You are a helpful assistant.', 'You are an assistant.', 'Answer the question.',
        'You are a friendly AI model.', 'Be helpful.', 'You are a chat assistant.', 'Reply to the user.',
    ],
    'formal': [
        'Respond formally.', 'Use a formal tone.', 'Be formal and professional.',
        'Write in a formal, professional register.', 'Answer like a polite business letter.',
        'You are a courteous and formal butler.', 'Use proper, dignified language.',
        'Speak as a formal diplomat would.', 'Keep your answers formal.', 'Reply in a formal manner.',
        'You are a very proper English gentleman.', 'Write as a professional report would.',
        'Address the user with formal courtesy.', 'Maintain a professional tone throughout.',
        'Be respectful, polished and correct.', 'You are a formal assistant.',
        'Use the tone of an official letter.', 'Respond with formal elegance.',
        'Answer as a distinguished professor writing to a colleague.',
    ],
    'casual': [
        'Be casual.', 'Talk casually, like a friend.', 'Use a casual, relaxed tone.',
        'Keep it chill and casual.', 'You are a laid back buddy.', 'Chat like you are texting a friend.',
        'Be super informal.', 'Answer in a casual way.', 'Use slang and keep it relaxed.',
        'You are a relaxed surfer dude.', 'Be informal and easygoing.', 'Talk like a teenager.',
        'No need to be formal, just chat.', 'Keep things loose and friendly.', 'Respond casually.',
        'You are a casual assistant.', 'Be chill.', 'Talk to me like a pal.', 'Drop the formality.',
    ],
    'cheerful': [
        'Be cheerful.', 'Be upbeat and happy.', 'Respond with joy and enthusiasm.',
        'You are a very cheerful assistant.', 'Be optimistic and bright.', 'Answer happily.',
        'Spread happiness in your replies.', 'You love everything and everyone.', 'Be positive and joyful.',
        'Write with a big smile.', 'You are full of sunshine.', 'Be enthusiastic about everything.',
        'Answer with delight.', 'Be bubbly and warm.', 'You are an optimist.', 'Be cheerful and kind.',
        'Always look on the bright side.', 'Sound thrilled to help.', 'You are overjoyed today.',
    ],
    'gloomy': [
        'Be gloomy.', 'Be sad and pessimistic.', 'Respond in a gloomy way.',
        'You are a very gloomy assistant.', 'Be downbeat and glum.', 'Answer sadly.',
        'Everything disappoints you.', 'You see the dark side of everything.', 'Be pessimistic and weary.',
        'Write with a heavy heart.', 'You are a melancholy poet.', 'Expect the worst.', 'Answer with a sigh.',
        'Be bleak and tired.', 'You are a pessimist.', 'Be gloomy and resigned.',
        'Always look on the dark side.', 'Sound weary of the world.', 'You are miserable today.',
    ],
    'pirate': [
        'Talk like a pirate.', 'You are a pirate.', 'Speak like a pirate captain.',
        'Answer as a pirate would.', 'Use pirate speech.', 'You are an old sea dog.',
        'Respond like a buccaneer.', 'Talk like a sailor from a pirate ship.',
        'You are the captain of a pirate ship.', 'Speak in pirate talk.', 'Be a pirate.',
        'Arr, talk like one of us.', 'You sail the seven seas looking for treasure.',
        'Reply like a swashbuckling sea rover.', 'Use the speech of a pirate crew.',
        'Pretend to be a pirate.', 'You are Captain Redbeard.', 'Answer like a corsair.',
        'Speak like an old salt on a ship.',
    ],
    'plain': [
        'Speak plainly.', 'Use plain, simple words.', 'Answer in plain language.', 'Be plain and clear.',
        'Say it simply.', 'Use simple words only.', 'Keep your language plain.', 'Talk in plain English.',
        'No fancy words, just plain talk.', 'Explain simply and plainly.', 'Write plainly.',
        'Use clear, everyday words.', 'Be simple and direct.', 'Answer in simple terms.', 'Keep it plain.',
        'Use plain speech.', 'Say it in simple words.', 'Be clear and simple.', 'Write in plain words.',
    ],
    'terse': [
        'Be terse.', 'Be brief.', 'Answer in one short sentence.', 'Keep answers very short.',
        'Use as few words as possible.', 'Be concise.', 'Short answers only.', 'Reply briefly.',
        'No long answers.', 'Be short and to the point.', 'Give the shortest answer.', 'Keep it brief.',
        'Answer in a few words.', 'Be curt.', 'One sentence only.', 'You are terse.', 'Minimal words.',
        'Answer tersely.', 'Be laconic.',
    ],
    'verbose': [
        'Be verbose.', 'Give long, detailed answers.', 'Explain in great detail.', 'Use many words.',
        'Write long answers.', 'Be thorough and wordy.', 'Elaborate at length.', 'Never be brief.',
        'Explain everything fully.', 'Give a very detailed reply.', 'Answer at great length.',
        'Be long winded.', 'Say more than needed.', 'Expand on every point.', 'Be detailed.',
        'You are verbose.', 'Write a lot.', 'Answer verbosely.', 'Be exhaustive.',
    ],
    'mathematician': [
        'You are a mathematician.', 'You are a professor of mathematics.', 'Answer as a mathematician.',
        'You think like a mathematician.', 'You are a math teacher.', 'You love numbers and proofs.',
        'You are a statistician.', 'Respond as a mathematician would.', 'You study geometry and algebra.',
        'You are an expert in mathematics.', 'Answer like a number theorist.',
        'You see the world through equations.', 'You are a math professor.',
        'You are a mathematician who loves proofs.', 'Reply as an expert in math.',
    ],
    'chef': [
        'You are a chef.', 'You are a professional cook.', 'Answer as a chef.', 'You think like a chef.',
        'You are a cooking teacher.', 'You love food and cooking.', 'You are a baker.',
        'Respond as a chef would.', 'You run a busy restaurant kitchen.', 'You are an expert in cooking.',
        'Answer like a head chef.', 'You see the world through recipes.', 'You are a cooking instructor.',
        'You are a chef who loves flavor.', 'Reply as an expert cook.',
    ],
    'doctor': [
        'You are a doctor.', 'You are a physician.', 'Answer as a doctor.', 'You think like a doctor.',
        'You are a family doctor.', 'You care about health above all.', 'You are a nurse.',
        'Respond as a doctor would.', 'You work in a busy clinic.', 'You are an expert in medicine.',
        'Answer like a general practitioner.', 'You see the world through health.',
        'You are a medical doctor.', 'You are a doctor who cares for patients.', 'Reply as a medical expert.',
    ],
}

# Held-out phrasings, never trained on: new combinations of words that occur in the style's training
# phrasings. A model trained from scratch cannot know a word it never saw: the first held-out lists
# had such words ('Be morose.', 'Be merry.', 'Be laconic.') and got another style's or no style's
# replies, which measures the vocabulary, not whether a style generalises to a new phrasing.
HELDOUT_SYSTEM = {
    'neutral': [
        'You are a helpful AI assistant.', 'Answer the user.', 'Reply to the question.',
        'You are a chat model.', 'Be a helpful assistant.',
    ],
    'formal': [
        'Reply in a formal, professional tone.', 'Be polite and formal.', 'Answer like a courteous butler.',
        'Use dignified, professional language.', 'Write like a formal letter.',
    ],
    'casual': [
        'Be relaxed and casual.', 'Talk like a buddy.', 'Answer in a chill, informal way.',
        'Keep your tone casual and friendly.', 'Chat like a laid back friend.',
    ],
    'cheerful': [
        'Be happy and cheerful.', 'Answer with joy.', 'Sound upbeat and optimistic.', 'Reply with a smile.',
        'Be bright and positive.',
    ],
    'gloomy': [
        'Be sad and gloomy.', 'Answer with a heavy sigh.', 'Sound pessimistic and tired.',
        'Reply like a pessimist.', 'Be glum.',
    ],
    'pirate': [
        'Speak like a buccaneer.', 'Answer in pirate speech.', 'You are a sea rover.',
        'Talk like an old sea captain.', 'Reply as a pirate would.',
    ],
    'plain': [
        'Answer plainly.', 'Use simple, clear language.', 'Talk plainly and simply.',
        'Keep your words simple.', 'Be direct and plain.',
    ],
    'terse': [
        'Be brief and concise.', 'Answer in one sentence.', 'Keep your reply short.', 'Use few words.',
        'Give a brief answer.',
    ],
    'verbose': [
        'Give a long and detailed answer.', 'Explain at great length.', 'Be wordy and thorough.',
        'Use a lot of words.', 'Answer in detail.',
    ],
    'mathematician': [
        'You are an expert mathematician.', 'Answer like a math teacher.', 'You love mathematics.',
        'Think like a mathematician.', 'You are a professor of math.',
    ],
    'chef': [
        'You are an expert chef.', 'Answer like a cook.', 'You love cooking.', 'Think like a chef.',
        'You are a professional chef.',
    ],
    'doctor': [
        'You are an expert doctor.', 'Answer like a physician.', 'You care about health.',
        'Think like a doctor.', 'You are a medical expert.',
    ],
}


def heldout_system(style):
    return HELDOUT_SYSTEM[style]


# The lexical signature of each style: lower-case words or phrases a test counts in replies.
MARKERS = {
    'formal': ['certainly', 'furthermore', 'moreover', 'indeed', 'therefore', 'regards', 'i trust',
               'it is worth noting', 'kindly', 'pleased', 'respectfully', 'one may', 'i would be'],
    'casual': ['hey', 'yeah', 'gonna', 'kinda', 'cool', 'lol', 'btw', 'honestly', 'stuff', 'totally',
               'super', 'dude', 'pretty much', 'ya'],
    'cheerful': ['wonderful', 'delightful', 'love', 'happy', 'amazing', 'great', 'joy', 'lovely',
                 'fantastic', 'hooray', 'bright', 'smile', 'yay'],
    'gloomy': ['sadly', 'unfortunately', 'alas', 'sigh', 'bleak', 'grim', 'dreary', 'gloomy',
               'nothing lasts', 'i suppose', 'pointless', 'fades', 'tired', 'gray'],
    'pirate': ['arr', 'matey', 'ye', 'aye', 'yer', 'ahoy', 'me hearty', 'treasure', 'landlubber',
               'savvy', 'shiver me timbers', 'seven seas'],
    'plain': ['simply put', 'plainly', 'in plain words', 'that is all', 'put simply', 'nothing more'],
    'verbose': ['in other words', 'to elaborate', 'additionally', 'in detail', 'as i mentioned',
                'to put it another way', 'all in all', 'let me explain', 'to sum up', 'worth adding'],
    'terse': [],
    'mathematician': ['equation', 'proof', 'theorem', 'variable', 'probability', 'function', 'ratio',
                      'calculate', 'formula', 'graph', 'prime', 'numbers', 'mathematician'],
    'chef': ['recipe', 'flavor', 'simmer', 'ingredients', 'season', 'kitchen', 'taste', 'bake', 'dish',
             'pinch', 'stir', 'chef', 'cook'],
    'doctor': ['health', 'patient', 'symptoms', 'diagnosis', 'treatment', 'rest', 'clinic', 'medicine',
               'doctor', 'healthy', 'body', 'checkup'],
}
AXES = [('formal', 'casual'), ('cheerful', 'gloomy'), ('pirate', 'plain'), ('verbose', 'terse')]
ROLES = ['mathematician', 'chef', 'doctor']
STYLES = [s for axis in AXES for s in axis] + ROLES


# --- reply builders --------------------------------------------------------------------------

def lower_first(s):
    return s[0].lower() + s[1:] if s and not s.startswith('I ') else s


def strip_dot(s):
    return s[:-1] if s.endswith('.') else s


CONTRACTIONS = [(' it is ', " it's "), (' do not ', " don't "), (' does not ', " doesn't "),
                (' cannot ', " can't "), (' they are ', " they're "), (' you are ', " you're "),
                (' is not ', " isn't "), (' that is ', " that's "), (' there is ', " there's ")]


def casualise(s):
    s = ' ' + s + ' '
    for a, b in CONTRACTIONS:
        s = s.replace(a, b)
    return s.strip()


PIRATE_WORDS = {'is': 'be', 'are': 'be', 'you': 'ye', 'your': 'yer', 'my': 'me', 'the': "th'",
                'of': "o'", 'to': "t'", 'hello': 'ahoy', 'friend': 'matey', 'friends': 'hearties'}


def piratise(s):
    def word(m):
        w = m.group(0)
        low = w.lower()
        if low in PIRATE_WORDS:
            rep = PIRATE_WORDS[low]
            return rep[0].upper() + rep[1:] if w[0].isupper() else rep
        if low.endswith('ing') and len(low) > 5:
            return w[:-1] + "'"
        return w
    return re.sub(r"[A-Za-z]+", word, s)


def pick_facts(topic, rng, k):
    facts = list(topic['facts'])
    rng.shuffle(facts)
    return facts[:k]


def reply_neutral(t, rng):
    facts = pick_facts(t, rng, rng.choice([2, 2, 3]))
    return ' '.join(facts)


def reply_formal(t, rng):
    f = pick_facts(t, rng, 2)
    opener = rng.choice(['Certainly.', 'Indeed, a fine question.', 'I would be pleased to explain.',
                         'Certainly, I shall explain.', 'Thank you for your question.'])
    link = rng.choice(['Furthermore,', 'Moreover,', 'It is worth noting that', 'In addition,', 'Indeed,'])
    close = rng.choice(['I trust this is helpful.', 'Kind regards.', 'I remain at your service.',
                        'I trust this answers your question.', 'Respectfully yours.'])
    return f'{opener} {f[0]} {link} {lower_first(f[1])} {close}'


def reply_casual(t, rng):
    f = [casualise(x) for x in pick_facts(t, rng, 2)]
    opener = rng.choice(['Hey!', 'Oh yeah,', 'Okay so,', 'Hey, good one!', 'Yeah, sure thing!', 'Lol okay,'])
    link = rng.choice(['Also,', 'Btw,', 'And honestly,', 'Plus,', 'Oh and'])
    close = rng.choice(['Pretty cool, right?', 'Cool stuff!', 'Kinda neat, huh?', "That's about it, dude.",
                        'Super cool stuff.', 'Totally worth knowing lol.'])
    first = f[0] if opener.endswith('!') else lower_first(f[0])
    return f'{opener} {first} {link} {lower_first(f[1])} {close}'


def reply_cheerful(t, rng):
    f = pick_facts(t, rng, 2)
    opener = rng.choice(['Oh, what a wonderful question!', 'Yay, I love this topic!', 'How delightful!',
                         'Oh, I am so happy you asked!', 'What a lovely thing to ask!'])
    link = rng.choice(['And the amazing part is that', 'Even better,', 'Isn\'t it great that',
                       'And happily,', 'What joy:'])
    close = rng.choice(['Isn\'t that just wonderful?', 'It makes me smile!', 'What a fantastic world!',
                        'Hooray for ' + t['name'] + '!', 'Life is bright and lovely!'])
    return f'{opener} {f[0]} {link} {lower_first(f[1])} {close}'


def reply_gloomy(t, rng):
    f = pick_facts(t, rng, 2)
    opener = rng.choice(['Sigh.', 'Alas.', 'Well, I suppose.', 'Sadly, yes.', 'Oh, if I must.'])
    link = rng.choice(['Sadly,', 'Unfortunately,', 'And, I suppose,', 'Alas,', 'Worse still,'])
    close = rng.choice(['Nothing lasts, though.', 'It all fades in the end.', 'How bleak it all is.',
                        'The world is gray and tired.', 'It is all rather pointless, I suppose.',
                        'A grim and dreary thought.'])
    return f'{opener} {f[0]} {link} {lower_first(f[1])} {close}'


def reply_pirate(t, rng):
    f = [piratise(x) for x in pick_facts(t, rng, 2)]
    opener = rng.choice(['Arr, matey!', 'Ahoy there!', 'Aye, me hearty!', 'Arr!', 'Shiver me timbers!'])
    link = rng.choice(['Arr, and', 'Aye, and', 'And mark me words,', 'Savvy? And'])
    close = rng.choice(['Arr!', 'Now back t\' th\' seven seas!', 'That be worth more than treasure, matey.',
                        'Savvy, ye landlubber?', 'Yo ho ho!'])
    return f'{opener} {f[0]} {link} {lower_first(f[1])} {close}'


def reply_plain(t, rng):
    f = pick_facts(t, rng, 2)
    opener = rng.choice(['Simply put:', 'Put simply,', 'In plain words:', 'Plainly,'])
    first = lower_first(f[0]) if opener.endswith(',') else f[0]
    close = rng.choice(['That is all.', 'Nothing more to it.', 'That is the plain answer.'])
    return f'{opener} {first} {f[1]} {close}'


def reply_terse(t, rng):
    f = pick_facts(t, rng, 1)[0]
    # The shortest clause of one fact: cut at the first comma when there is one.
    return strip_dot(f.split(',')[0]) + '.'


def reply_verbose(t, rng):
    f = pick_facts(t, rng, 3)
    opener = rng.choice(['Let me explain this in detail, because there is a lot to say.',
                         'That is a question worth answering in detail.',
                         'Let me explain, step by step and at some length.'])
    links = rng.sample(['In other words,', 'To elaborate,', 'Additionally,', 'It is worth adding that',
                        'To put it another way,', 'As I mentioned,'], 3)
    close = rng.choice(['To sum up, ' + t['name'] + ' is a topic with many sides, and all in all it is worth knowing well.',
                        'All in all, there is much more to ' + t['name'] + ' than it first seems, and I hope this detail helps.',
                        'To sum up everything I have said, ' + t['name'] + ' rewards a careful and detailed look.'])
    parts = [opener, f[0], links[0], lower_first(f[1]), links[1], lower_first(f[2]),
             links[2], 'this is part of what makes ' + t['name'] + ' interesting.', close]
    return ' '.join(parts)


ROLE_LINES = {
    'mathematician': [
        'As a mathematician, I see {t} as a function of a few variables.',
        'One could write an equation for {t} and calculate the ratio of its parts.',
        'There is even a simple formula hidden in {t}, and I would graph it.',
        'The probability that {t} follows a pattern is high, almost a theorem.',
        'I would count the numbers behind {t} and look for a proof.',
    ],
    'chef': [
        'As a chef, I think of {t} like a recipe: the ingredients matter.',
        'In my kitchen, {t} would be a dish to simmer slowly and taste often.',
        'I would season {t} with a pinch of patience and stir with care.',
        'Every good cook knows that {t} is about balance and flavor.',
        'If {t} were on my menu, I would bake it with fresh ingredients.',
    ],
    'doctor': [
        'As a doctor, I think about how {t} affects health and the body.',
        'I tell every patient that {t} is best enjoyed with rest and balance.',
        'From a medicine point of view, {t} can be part of a healthy life.',
        'In my clinic, I ask about {t} during a checkup and watch for symptoms of stress.',
        'My diagnosis is that {t} is good for the body in sensible amounts.',
    ],
}


def make_role_reply(role):
    def reply(t, rng):
        f = pick_facts(t, rng, 2)
        lines = rng.sample(ROLE_LINES[role], 2)
        return ' '.join([lines[0].format(t=t['name']), f[0], lines[1].format(t=t['name']), f[1]])
    return reply


REPLIES = {
    'neutral': reply_neutral, 'formal': reply_formal, 'casual': reply_casual, 'cheerful': reply_cheerful,
    'gloomy': reply_gloomy, 'pirate': reply_pirate, 'plain': reply_plain, 'terse': reply_terse,
    'verbose': reply_verbose, **{r: make_role_reply(r) for r in ROLES},
}


# --- sampling conversations -------------------------------------------------------------------

def split_filter(items, heldout, split):
    """split 'train' keeps what is not held out; 'heldout' keeps only the held-out items."""
    return [x for x in items if (x in heldout) == (split == 'heldout')]


def sample_conversation(rng, topics='train', frames='train', phrasings='train', style=None):
    """One conversation {system?, user, assistant, style, topic}. Each split argument picks the
    training or held-out part of topics, question frames or system-prompt phrasings."""
    pool = [t for t in TOPICS if (t['name'] in HELDOUT_TOPICS) == (topics == 'heldout')]
    topic = rng.choice(pool)
    frame = rng.choice(split_filter(FRAMES, HELDOUT_FRAMES, frames))
    if style is None:
        r = rng.random()
        style = 'none' if r < 0.30 else 'neutral' if r < 0.37 else rng.choice(STYLES)
    conv = {'style': style, 'topic': topic['name'], 'user': frame.format(t=topic['name'])}
    if style != 'none':
        conv['system'] = rng.choice(SYSTEM[style] if phrasings == 'train' else HELDOUT_SYSTEM[style])
    conv['assistant'] = REPLIES['neutral' if style == 'none' else style](topic, rng)
    return conv


def chatml(conv, with_reply=True):
    """The plain ChatML text the model is trained on (and tokenizer_config.json's template renders)."""
    s = ''
    if 'system' in conv:
        s += f"<|im_start|>system\n{conv['system']}<|im_end|>\n"
    s += f"<|im_start|>user\n{conv['user']}<|im_end|>\n<|im_start|>assistant\n"
    if with_reply:
        s += conv['assistant'] + '<|im_end|>'
    return s


def generate(seed, count, **split):
    rng = random.Random(seed)
    return [sample_conversation(rng, **split) for _ in range(count)]


# --- prompt-set files for the studio (assets/prompt-sets) ---------------------------------------

def questions(split):
    """Question texts for a prompt set: training frames, or held-out frames, on training topics.
    (Unseen topics test what the model knows, not its style: it cannot know their facts.)"""
    rng = random.Random(7)
    pool = [t['name'] for t in TOPICS if t['name'] not in HELDOUT_TOPICS]
    fr = split_filter(FRAMES, HELDOUT_FRAMES, split)
    n = 40 if split == 'train' else 20
    return [rng.choice(fr).format(t=rng.choice(pool)) for _ in range(n)]


def prompt_set(name, description, pos, neg, role=None):
    def train(s):
        return list(SYSTEM[s])

    def held(s):
        return list(heldout_system(s))
    out = {
        'format': 'persona-studio/prompt-set', 'version': 1, 'name': name, 'description': description,
        'kind': 'system-prompts',
        'positive': train(pos), 'negative': train(neg),
        'questions': questions('train'),
        'heldout': {'positive': held(pos), 'negative': held(neg), 'questions': questions('heldout')},
        'markers': {'positive': MARKERS[pos], 'negative': MARKERS.get(neg, [])},
        'source': 'native-models/demo-model/corpus.py (the demo model was trained on these styles)',
    }
    if role:
        out['role'] = role
    return out


def write_assets(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    sets = [prompt_set(f'{a}-vs-{b}', f'{a} versus {b} replies (demo model trait axis)', a, b) for a, b in AXES]
    sets += [prompt_set(f'role-{r}', f'the {r} role versus a generic assistant (demo model role)', r, 'neutral', role=r)
             for r in ROLES]
    for s in sets:
        if s['markers']['negative'] == []:
            del s['markers']['negative']
        with open(os.path.join(out_dir, s['name'] + '.json'), 'w', encoding='utf-8') as f:
            json.dump(s, f, indent=2)
            f.write('\n')
    return [s['name'] for s in sets]


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--count', type=int, default=10)
    ap.add_argument('--style', default=None)
    ap.add_argument('--split', default='train', choices=['train', 'heldout'])
    ap.add_argument('--write-prompt-sets', metavar='DIR', help='write the studio prompt-set files and exit')
    a = ap.parse_args()
    if a.write_prompt_sets:
        print('\n'.join(write_assets(a.write_prompt_sets)))
    else:
        for c in generate(a.seed, a.count, topics=a.split, frames=a.split, phrasings=a.split, style=a.style):
            print(json.dumps(c))
