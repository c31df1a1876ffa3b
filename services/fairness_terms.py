"""The fair-hiring lexicon: per category its rules (regex, reason, rewrite suggestion) and source,
and the gender-coded word stems. Data only; services/fairness.py compiles and applies it.

A rule is a dict:
  pattern     a regex matched case-insensitively within one sentence; its named group ``hit``, if
              any, is the reported span (else the whole match). ``^`` is the start of the sentence.
  reason      why the text is a problem (one short clause).
  suggestion  a neutral rewrite.
  unless      optional regex: the sentence holding the match also matches it -> no finding
              (the look-alike senses: software terms, data about users, third parties).
  requires    optional regex the sentence must also match (e.g. it speaks of the hire).
Every sentence that matches EXEMPT (equal-opportunity statements, "we do not ask ...") is skipped.

Sources are cited per category. The lexicon is English only; matching a pattern is a prompt
for a human reviewer, not a legal finding, and not legal advice.
"""

EEOC_PRACTICES = ('EEOC, "Prohibited Employment Policies/Practices" (job advertisements, pre-employment '
                  "inquiries), https://www.eeoc.gov/prohibited-employment-policiespractices")
EEOC_GENDER_INQUIRIES = ('EEOC, "Pre-Employment Inquiries and Gender", '
                         "https://www.eeoc.gov/pre-employment-inquiries-and-gender")
TITLE_VII = "Title VII of the Civil Rights Act of 1964, 42 U.S.C. 2000e et seq."
UK_EQUALITY_ACT = "UK Equality Act 2010, s.4 (protected characteristics)"

# Sentences that speak about the hiring policy itself, not about a candidate: skipped everywhere.
EXEMPT = (
    r"\bequal\s+(?:employment\s+)?opportunit|\bwithout\s+regard\s+to\b|\bregardless\s+of\b"
    r"|\b(?:do|does|will)\s+not\s+discriminate|\b(?:don|doesn|won)['’]t\s+discriminate"
    r"|\b(?:provide|provides|offer|offers|request|requests|with\s+or\s+without)\s+reasonable\s+accommodations?\b"
    r"|\b(?:never|do\s+not|does\s+not|will\s+not|may\s+not|cannot|don['’]t|doesn['’]t|won['’]t)\s+"
    r"(?:ask|request|inquire|seek|consider|require|use)\b"
)

# The sentence speaks of the person hired (a job description or an interviewer's note).
HIRE = (
    r"\b(?:candidates?|applicants?|new\s+hire|the\s+hire|successful|ideal|right\s+person|incumbent|jobholder"
    r"|(?:this|the)\s+(?:role|position|person|individual|engineer|developer|manager|lead|architect|analyst"
    r"|designer|scientist|recruit|employee))\b"
)
# The sentence speaks of someone else: a user, a customer, a colleague of the candidate.
THIRD_PARTY = (
    r"\b(?:customers?|users?|clients?|colleagues?|teammates?|co-?workers?|stakeholders?|interviewers?|mentees?"
    r"|peers?|reporters?|friends?|someone\s+on\s+your\s+team|your\s+(?:manager|boss|lead|report|engineer|pm))\b"
)
# The protected word names data a system handles, not something asked of the candidate.
DATA = (
    r"\b(?:users?['’]?s?|customers?['’]?s?|patients?['’]?s?|members?['’]?s?|accounts?['’]?s?|fields?|columns?"
    r"|schemas?|tables?|api|endpoints?|datasets?|database|records?\s+system|kyc|payloads?|json|validate|validation"
    r"|parse|parsing|compute|calculate|signup|sign-up|pickers?|widgets?|inputs?|locales?|ehr|emr|hipaa|fhir|hl7"
    r"|iso\s+\d+)\b"
)
_SOFTWARE = r"\b(?:program|programming|coding|code|scripting|compiler|ios|android|jvm|platform|sdk|runtime|bindings?)\b"

_PRONOUN_VERB = (r"(?:['’](?:ll|d|s)|\s+(?:will|would|should|must|shall|can|could|is|has|needs?|works?|reports?"
                 r"|owns?|leads?|manages?|takes?|joins?|drives?|builds?|brings?))\b")

CATEGORIES = {
    "age": {
        "source": "Age Discrimination in Employment Act of 1967 (ADEA), 29 U.S.C. 621-634; " + EEOC_PRACTICES
                  + " (ads naming age or 'recent college graduates'; inquiries about age, date of birth, "
                  "graduation dates); " + UK_EQUALITY_ACT,
        "rules": [
            {"pattern": r"\bdigital\s+natives?\b",
             "reason": "'digital native' is a proxy for age (born into the internet era)",
             "suggestion": "Name the skill instead, e.g. 'fluent with modern developer tooling'."},
            {"pattern": r"\b(?:young(?:er)?|youthful)\b(?!['’]s\b)(?!\s+(?:and\s+old\s+)?(?:generations?|gen\b|startup|start-up"
                        r"|company|companies|codebase|product|project|language|framework|field|industry|business"
                        r"|market|ecosystem|technology|heap|objects?|collections?|space|region))",
             "reason": "describes the hire or the team by age",
             "suggestion": "Describe the work and pace instead, e.g. 'a team that ships every day'.",
             "unless": r"\b(?:garbage\s+collect\w*|gc|jvm|heap|eden|g1|zgc)\b"},
            {"pattern": r"\bolder\s+(?:applicants?|candidates?|workers?|people|engineers?|employees?)\b",
             "reason": "excludes candidates by age",
             "suggestion": "State the job's real requirements; leave age out."},
            {"pattern": r"\b(?:under|below|over|above|younger\s+than|older\s+than|no\s+older\s+than|not\s+older\s+than)\s+"
                        r"(?:the\s+age\s+of\s+\d{2}|\d{2}\s+(?:years?\s+(?:old|of\s+age)|yrs?\s+old)"
                        r"|\d{2}(?=\s*(?:[.,;:!?)]|$|only\b|please\b|preferred\b|and\s+(?:eager|keen|hungry|energetic|ready"
                        r"|willing|able)\b|to\s+apply\b|candidates?\b|applicants?\b)))",
             "reason": "sets an age limit",
             "suggestion": "Remove the age limit; state the skills and experience the job needs.",
             "unless": r"\b(?:ms|milliseconds?|seconds?|minutes?|latency|p\d\d|requests?|rps|qps|%|percent|users|kb|mb|gb)\b"},
            {"pattern": r"\b(?:aged?|ages)\s+(?:between\s+)?\d{2}\s*(?:-|–|to|and)\s*\d{2}\b"
                        r"|\bbetween\s+\d{2}\s+and\s+\d{2}\s+years?\s+(?:old|of\s+age)\b"
                        r"|\b\d{2}\s*(?:-|–|to)\s*\d{2}\s+years?\s+(?:old|of\s+age)\b",
             "reason": "sets an age range",
             "suggestion": "Remove the age range; state the skills and experience the job needs."},
            {"pattern": r"\bin\s+(?:their|your|his|her)\s+(?:early\s+|mid[-\s]?|late\s+)?(?:twenties|thirties|forties|fifties"
                        r"|20s|30s|40s|50s)\b",
             "reason": "describes the hire by age bracket",
             "suggestion": "Remove the age bracket; state the skills and experience the job needs."},
            {"pattern": r"\b(?:date|year)\s+of\s+birth\b|\bbirth\s*(?:date|year)\b|\bhow\s+old\s+are\s+you\b"
                        r"|\bwhat\s+(?:is\s+)?your\s+age\b|\bwhat\s+year\s+were\s+you\s+born\b"
                        r"|\bborn\s+(?:in|after|before)\s+(?:the\s+)?(?:(?:19|20)\d{2}|(?:19)?\d0['’]?s)\b",
             "reason": "asks for age or date of birth",
             "suggestion": "Do not ask for age; if a legal minimum age applies, ask 'Are you at least 18?'.",
             "unless": DATA},
            {"pattern": r"\bgraduat\w*\s+(?:after|before|since|in|from|between)\s+(?:the\s+year\s+)?(?:19|20)\d{2}\b"
                        r"|\bgraduat\w*\s+(?:with)?in\s+the\s+(?:last|past)\s+(?:\w+\s+)?years?\b"
                        r"|\b(?:graduation|graduating)\s+(?:year|date)s?\b|\byear\s+of\s+graduation\b"
                        r"|\b(?:year|when)\s+(?:did\s+)?you\s+graduated?\b|\bclass\s+of\s+(?:19|20)\d{2}\b",
             "reason": "graduation dates stand in for age",
             "suggestion": "Ask about the degree or equivalent experience, not when it was earned."},
            {"pattern": r"\brecent\s+(?:college\s+|university\s+)?grad(?:uate)?s?\b|\bfresh\s+(?:college\s+|university\s+)?"
                        r"grad(?:uate)?s?\b|\bfresh\s+out\s+of\s+(?:college|university|school)\b|\bnew\s+grads?\s+only\b",
             "reason": "asking for recent graduates deters older applicants",
             "suggestion": "Say 'entry-level' or '0-2 years of experience' and welcome career changers.",
             "unless": r"\b(?:welcome|encouraged?|as\s+well\s+as|alike|equally|career\s+changers|regardless|customers?"
                       r"|users?|clients?|students?|audience)\b"},
            {"pattern": r"\b(?:no\s+more\s+than|not\s+more\s+than|at\s+most|maximum(?:\s+of)?|max\.?)\s*\d+\+?\s+years?\s+"
                        r"(?:of\s+)?(?:professional\s+|work\s+|relevant\s+)?experience\b",
             "reason": "a ceiling on experience screens out older applicants",
             "suggestion": "State the minimum experience needed; drop the maximum."},
            {"pattern": r"\b(?:plan|planning|intend|intending|expect)\s+(?:to|on)\s+retir(?:e|ing)\b"
                        r"|\bwhen\s+(?:will|do)\s+you\s+(?:plan\s+to\s+)?retire\b",
             "reason": "asks about retirement plans (a proxy for age)",
             "suggestion": "Ask about the candidate's goals for the next few years in the role."},
        ],
    },
    "sex_gender": {
        "source": TITLE_VII + "; " + EEOC_PRACTICES + " (ads preferring one sex); " + EEOC_GENDER_INQUIRIES
                  + "; " + UK_EQUALITY_ACT,
        "rules": [
            {"pattern": r"^[\W\d]*(?P<hit>(?:he|she)" + _PRONOUN_VERB + r")",
             "reason": "a gendered pronoun for the hire",
             "suggestion": "Use 'they' or 'you', or 'the engineer'.",
             "unless": THIRD_PARTY},
            {"pattern": r"(?<![/\w])(?<!\bor\s)(?:he|she)" + _PRONOUN_VERB + r"(?!\s*/)"
                        r"|(?<![/\w])(?<!\bor\s)(?:his|her|hers|him|himself|herself)\b(?!\s*/|\s+or\s)",
             "reason": "a gendered pronoun for the hire",
             "suggestion": "Use 'they' or 'you', or 'the engineer'.",
             "requires": HIRE, "unless": THIRD_PARTY},
            {"pattern": r"\b(?:male|female|men|women|man|woman|guys?|gentlem[ae]n|ladies|girls?|boys?)\s+(?:only|preferred|wanted"
                        r"|required)\b|\b(?:male|female)\s+(?:candidates?|applicants?|hires?|engineers?|developers?)\b"
                        r"(?!\s+(?:are\s+)?(?:strongly\s+)?encouraged)"
                        r"|\b(?:must\s+be|only|prefer(?:ably)?|looking\s+for)\s+(?:an?\s+)?(?:\w+\s+)?(?:male|female|man|woman|guy"
                        r"|gentleman|lady)\b",
             "reason": "states a preference for one sex",
             "suggestion": "Remove the sex preference; describe the work and skills.",
             "unless": r"\b(?:connectors?|headers?|pins?|plugs?|sockets?|jacks?|adapters?|threads?)\b"},
            {"pattern": r"\b(?:salesm[ae]n|forem[ae]n|craftsm[ae]n|handym[ae]n|repairm[ae]n|cameram[ae]n|draftsm[ae]n"
                        r"|chairm[ae]n|deliverym[ae]n|waitress(?:es)?|hostess(?:es)?|stewardess(?:es)?)\b",
             "reason": "a gendered job title",
             "suggestion": "Use a neutral title: 'salesperson', 'supervisor', 'chair', 'server'."},
            {"pattern": r"\b(?:your|candidate['’]?s|applicant['’]?s|what\s+is\s+(?:the\s+)?(?:candidate['’]s\s+)?)\s*(?:sex|gender)\b"
                        r"(?!\s+(?:identity|reassignment|expression|assigned))",
             "reason": "asks for the candidate's sex or gender",
             "suggestion": "Do not ask; collect EEO data separately and voluntarily, apart from the hiring decision.",
             "unless": DATA},
        ],
    },
    "pregnancy": {
        "source": "Pregnancy Discrimination Act of 1978 (amending Title VII, 42 U.S.C. 2000e(k)); Pregnant Workers "
                  "Fairness Act of 2022; " + EEOC_GENDER_INQUIRIES + "; " + UK_EQUALITY_ACT + " (pregnancy and maternity)",
        "rules": [
            {"pattern": r"\bpregnan(?:t|cy|cies)\b(?!\s+paus)",
             "reason": "refers to pregnancy",
             "suggestion": "Do not ask about pregnancy; describe the job's schedule and travel for everyone."},
            {"pattern": r"\bmaternity\b",
             "reason": "refers to maternity (leave), which ties the job to pregnancy",
             "suggestion": "Say 'parental leave' for all parents, and never ask about leave plans."},
            {"pattern": r"\bexpecting\s+(?:a\s+)?(?:baby|child|twins)\b|\bbirth\s+control\b|\bmorning\s+sickness\b",
             "reason": "refers to pregnancy or reproduction",
             "suggestion": "Do not ask; describe the job's schedule and travel for everyone."},
        ],
    },
    "family_status": {
        "source": TITLE_VII + " (sex-plus: family plans, child care); " + EEOC_GENDER_INQUIRIES
                  + " (marital status, number of children, child-care provisions, spouse); "
                  + UK_EQUALITY_ACT + " (marriage and civil partnership)",
        "rules": [
            {"pattern": r"\b(?:plan|plans|planning|intend|intending|want|wanting|thinking)\s+(?:to|on|about)\s+"
                        r"(?:have|having|start|starting)\s+(?:a\s+)?(?:children|kids|family|babies|baby)\b",
             "reason": "asks about family plans",
             "suggestion": "Do not ask; describe the job's hours, on-call and travel and ask if the candidate can meet them."},
            {"pattern": r"\b(?:do|have)\s+you\s+(?:have|got)\s+(?:any\s+)?(?:children|kids|dependants?|dependents)\b"
                        r"|\bhow\s+many\s+(?:children|kids)\b|\bare\s+you\s+a\s+(?:parent|mother|father|mom|mum|dad)\b"
                        r"|\b(?:who|what)\s+(?:\w+\s+){0,2}(?:looks?|look)\s+after\s+(?:your\s+)?(?:children|kids|them)\b"
                        r"|\bchild\s*care\s+(?:arrangements?|plans?|situation|responsibilities|needs|provisions?)\b",
             "reason": "asks about children or child care",
             "suggestion": "Do not ask; describe the job's hours, on-call and travel and ask if the candidate can meet them."},
            {"pattern": r"\bmarital\s+status\b|\b(?:un)?married\b|\bmaiden\s+name\b"
                        r"|\bare\s+you\s+(?:single|divorced|engaged|widowed|separated)\b"
                        r"|\byour\s+(?:husband|wife|spouse|fianc[eé]e?|boyfriend|girlfriend)\b",
             "reason": "refers to marital status or a spouse",
             "suggestion": "Leave marital status and spouses out; ask only what the job needs.",
             "unless": DATA},
            {"pattern": r"\b(?:no|without|free\s+of|free\s+from|few)\s+(?:family|childcare|child-care|caring)\s+"
                        r"(?:commitments|obligations|responsibilities|ties)\b",
             "reason": "prefers candidates without family responsibilities",
             "suggestion": "State the travel or hours the job needs; leave family out.",
             "unless": DATA},
        ],
    },
    "race_ethnicity": {
        "source": TITLE_VII + " (race, colour); 42 U.S.C. 1981; " + EEOC_PRACTICES + " (inquiries that disclose race); "
                  + UK_EQUALITY_ACT + " (race: colour, nationality, ethnic or national origin)",
        "rules": [
            {"pattern": r"\b(?:your|candidate['’]?s|applicant['’]?s|what|of\s+any)\s+(?:race|ethnicity|ethnic\s+(?:origin"
                        r"|background|group))\b|\brace\s+(?:or|and|/)\s+(?:ethnicity|colou?r|national\s+origin)\b"
                        r"|\bethnic(?:ity|ities)?\b|\bskin\s+(?:colou?r|tone)\b|\bcomplexion\b",
             "reason": "refers to race, ethnicity or colour",
             "suggestion": "Do not ask; collect EEO data separately and voluntarily, apart from the hiring decision.",
             "unless": DATA},
            {"pattern": r"\b(?:white|black|asian|hispanic|latin[aox]|latinx|caucasian|african[-\s]american|arab)\s+"
                        r"(?:candidates?|applicants?|only|preferred|people|men|women|males?|females?|guys?|engineers?"
                        r"|developers?|staff|employees?)\b|\bcaucasian\b",
             "reason": "states a preference by race",
             "suggestion": "Remove it; describe the work and skills."},
        ],
    },
    "national_origin": {
        "source": TITLE_VII + " (national origin); " + EEOC_PRACTICES + " (inquiries about birthplace, ancestry, "
                  "accent); " + UK_EQUALITY_ACT + " (race includes national origin)",
        "rules": [
            {"pattern": r"\bwhere\s+(?:were|was)\s+(?:you|they|he|she|the\s+candidate)\s+born\b|\bplace\s+of\s+birth\b|\bbirthplace\b"
                        r"|\bcountry\s+of\s+(?:origin|birth)\b|\bnational\s+origin\b|\bnationality\b|\bnationalities\b"
                        r"|\b(?:us|u\.s\.|american|british|uk|canadian|foreign|native|locally)[-\s]born\b"
                        r"|\bwhere\s+are\s+you\s+(?:really\s+|originally\s+)?from\b|\bwhere\s+(?:is|are)\s+your\s+"
                        r"(?:family|parents)\s+from\b|\byour\s+(?:ancestry|heritage|ethnic\s+roots)\b",
             "reason": "asks about birthplace, ancestry or nationality",
             "suggestion": "Ask only 'Are you legally authorized to work in <country>?'.",
             "unless": DATA},
            {"pattern": r"\b(?:you|candidates?|applicants?|someone|people|those|who|anyone)\s+(?:\w+\s+){0,2}"
                        r"(?P<hit>born\s+in\b)(?!\s+(?:the\s+)?(?:(?:19|20)\d{2}|(?:19)?\d0['’]?s))",
             "reason": "asks about or prefers a birthplace",
             "suggestion": "Ask only 'Are you legally authorized to work in <country>?'.",
             "unless": DATA},
            {"pattern": r"\b(?:no|without\s+an?|neutral|american|british|foreign|heavy|thick|strong)\s+accents?\b"
                        r"|\baccent[-\s]free\b",
             "reason": "an accent requirement discriminates by national origin",
             "suggestion": "State the communication the job needs, e.g. 'explains designs clearly to customers'."},
        ],
    },
    "citizenship": {
        "source": "Immigration and Nationality Act, 8 U.S.C. 1324b (citizenship status discrimination; enforced by "
                  "DOJ's Immigrant and Employee Rights Section); " + EEOC_PRACTICES + " (citizenship vs. the legal "
                  "right to work)",
        "rules": [
            {"pattern": r"\bcitizens?\s+only\b|\bcitizenship\b(?!\s+(?:and\s+immigration))"
                        r"|\b(?:must|should|need\s+to|needs\s+to)\s+be\s+(?:an?\s+)?(?:[\w.]+\s+)?citizens?\b"
                        r"|\bare\s+you\s+an?\s+(?:[\w.]+\s+)?citizen\b|\bcitizen\s+of\b"
                        r"|\b(?:green\s+card|permanent\s+resident)s?(?:\s+holders?)?\s+only\b",
             "reason": "requires a citizenship status rather than the right to work",
             "suggestion": "Ask 'Are you legally authorized to work in <country>?'; if a law or contract requires "
                           "citizenship (e.g. a security clearance), cite it.",
             "unless": r"\b(?:corporate|digital|good)\s+citizenship\b|\bcitizen\s+(?:developers?|data)\b|\bu\.?s\.?\s+"
                       r"citizenship\s+and\s+immigration\s+services\b"},
        ],
    },
    "language": {
        "source": TITLE_VII + " (national origin: native-language and accent rules); " + EEOC_PRACTICES
                  + "; EEOC Enforcement Guidance on National Origin Discrimination (2016), s.V.C (language)",
        "rules": [
            {"pattern": r"\bnative(?:[-\s]level)?\s+(?:\w+\s+)?speakers?\b|\b\w+\s+native\s+speakers?\b"
                        r"|\bnative(?:[-\s]level)?\s+(?:english|german|french|spanish|portuguese|italian|dutch|japanese|mandarin"
                        r"|chinese|korean|arabic|hindi|russian|polish|swedish|norwegian|danish|finnish|hebrew|turkish)\b"
                        r"|\bmother\s+tongue\b|\bnative\s+(?:tongue|language)\b|\bfirst\s+language\b",
             "reason": "requires a native language rather than a proficiency",
             "suggestion": "State the proficiency the job needs, e.g. 'fluent written and spoken English (C1)'.",
             "unless": _SOFTWARE},
        ],
    },
    "religion": {
        "source": TITLE_VII + " (religion; 42 U.S.C. 2000e(j) accommodation); " + EEOC_PRACTICES
                  + " (inquiries about religious affiliation, church, holidays observed); " + UK_EQUALITY_ACT
                  + " (religion or belief)",
        "rules": [
            {"pattern": r"\breligions?\b|\breligious\s+(?:beliefs?|affiliations?|practices?|holidays?|observances?|views|background"
                        r"|denominations?|organi[sz]ations?|groups?)\b|\byour\s+faith\b"
                        r"|\b(?:church|churches|mosque|synagogue|chapel|parish|congregation|pastor|priest|rabbi|imam)\b"
                        r"|\bprayers?\b|\bsabbath\b|\bholidays?\s+(?:do\s+)?you\s+observe\b",
             "reason": "refers to religion or religious practice",
             "suggestion": "Do not ask; state the schedule the job needs and that accommodation is available.",
             "unless": r"\bchurch[-\s](?:encoding|numerals?|turing|rosser)\b|\balonzo\b"},
            {"pattern": r"\b(?:christian|muslim|jewish|hindu|buddhist|sikh|catholic|protestant|mormon|atheist)s?\s+"
                        r"(?:values|candidates?|applicants?|only|environment|company|background|ethos|faith|preferred)\b"
                        r"|\bare\s+you\s+an?\s+(?:christian|muslim|jew|jewish|hindu|buddhist|sikh|catholic|protestant"
                        r"|mormon|atheist)\b",
             "reason": "states a preference by religion",
             "suggestion": "Remove it; describe the work and skills."},
        ],
    },
    "disability_health": {
        "source": "Americans with Disabilities Act of 1990, Title I, 42 U.S.C. 12112(d) (no disability-related "
                  "inquiries or medical exams before a conditional offer); " + EEOC_PRACTICES + "; " + UK_EQUALITY_ACT
                  + " (disability) and s.60 (pre-employment health questions)",
        "rules": [
            {"pattern": r"\bdisabilit(?:y|ies)\b|\b(?:are\s+you|is\s+(?:he|she|the\s+candidate))\s+disabled\b"
                        r"|\bdisabled\s+(?:candidates?|applicants?|people|persons?|workers?|employees?)\b"
                        r"|\bhandicap(?:ped|s)?\b|\bable[-\s]bodied\b",
             "reason": "refers to disability rather than the job's essential functions",
             "suggestion": "Describe the essential functions and ask 'Can you perform them, with or without "
                           "reasonable accommodation?'.",
             "unless": r"\baccessib\w*|\ba11y\b|\bwcag\b|\bscreen\s+readers?\b|\baria\b|\b(?:users?|customers?|people|"
                       r"visitors?|readers?)\s+with\s+disabilit"},
            {"pattern": r"\bmedical\s+(?:history|conditions?|records?|issues|problems|exam(?:ination)?s?|treatment)\b"
                        r"|\b(?:your|any|mental|physical|chronic|pre-existing)\s+health\s+(?:conditions?|problems|issues"
                        r"|history|status)\b|\bhealth\s+conditions?\b|\bmental\s+(?:illness|disorders?|health\s+(?:history"
                        r"|conditions?|issues|problems|treatment))\b|\bpsychiatric\b"
                        r"|\b(?:taking|take|on)\s+(?:any\s+)?(?:prescription\s+)?(?:medications?|medicines?|prescriptions?)\b"
                        r"|\bsick\s+(?:days|leave)\b(?=.*\b(?:you|last\s+year|did|have)\b)"
                        r"|\bhow\s+often\s+(?:were|are)\s+you\s+(?:sick|ill)\b|\bworkers['’]?\s+comp(?:ensation)?\s+claims?\b"
                        r"|\b(?:in\s+good|excellent)\s+(?:physical\s+)?health\b|\bphysically\s+fit\b",
             "reason": "a medical or health inquiry before an offer",
             "suggestion": "Ask only whether the candidate can perform the essential functions, with or without "
                           "reasonable accommodation.",
             "unless": DATA},
        ],
    },
    "genetic_information": {
        "source": "Genetic Information Nondiscrimination Act of 2008 (GINA), Title II, 42 U.S.C. 2000ff "
                  "(genetic tests and family medical history); " + EEOC_PRACTICES,
        "rules": [
            {"pattern": r"\bgenetic\s+(?:tests?|testing|information|screening|predispositions?|markers?|history|conditions?"
                        r"|disorders?|makeup)\b|\bdna\s+(?:tests?|testing|samples?|screening)\b"
                        r"|\bfamily\s+(?:medical|health)\s+history\b|\b(?:medical|health)\s+history\s+of\s+(?:your|the)\s+family\b"
                        r"|\bruns?\s+in\s+(?:your|the)\s+family\b|\bhereditary\s+(?:conditions?|diseases?|illness(?:es)?)\b"
                        r"|\bpredisposition\s+to\b",
             "reason": "asks for genetic information or family medical history",
             "suggestion": "Do not ask; genetic information and family medical history have no place in hiring."},
        ],
    },
    "sexual_orientation": {
        "source": TITLE_VII + " as read in Bostock v. Clayton County, 590 U.S. 644 (2020); " + EEOC_PRACTICES
                  + "; " + UK_EQUALITY_ACT + " (sexual orientation)",
        "rules": [
            {"pattern": r"\bsexual\s+orientation\b|\bsexuality\b|\b(?:gay|lesbian|bisexual|homosexual|heterosexual|queer)s?\b"
                        r"|\bare\s+you\s+straight\b",
             "reason": "refers to sexual orientation",
             "suggestion": "Do not ask; it is unrelated to the job."},
        ],
    },
    "gender_identity": {
        "source": TITLE_VII + " as read in Bostock v. Clayton County, 590 U.S. 644 (2020); " + EEOC_PRACTICES
                  + "; " + UK_EQUALITY_ACT + " (gender reassignment)",
        "rules": [
            {"pattern": r"\bgender\s+(?:identity|reassignment|transition|expression)\b|\btrans(?:gender|sexual)s?\b"
                        r"|\bcisgender\b|\b(?:sex|gender)\s+assigned\s+at\s+birth\b|\bassigned\s+at\s+birth\b"
                        r"|\b(?:biological|birth)\s+sex\b|\bborn\s+(?:a\s+)?(?:male|female|man|woman|boy|girl)\b",
             "reason": "refers to gender identity",
             "suggestion": "Do not ask; it is unrelated to the job."},
        ],
    },
    "arrest_record": {
        "source": "EEOC Enforcement Guidance 915.002 (2012), Consideration of Arrest and Conviction Records in "
                  "Employment Decisions under Title VII; state and local fair-chance ('ban the box') laws",
        "rules": [
            {"pattern": r"\barrest(?:s|ed)?\s+(?:records?|history|histories)\b|\b(?:ever\s+)?been\s+(?:arrested|convicted|detained"
                        r"|jailed|incarcerated)\b|\bany\s+arrests\b|\barrests\b(?=.*\b(?:list|disclose|any|your)\b)"
                        r"|\bcriminal\s+(?:records?|history|histories|past|convictions?)\b|\bfelon(?:s|y|ies)?\b"
                        r"|\bclean\s+criminal\s+record\b",
             "reason": "asks about arrests or a criminal record before an offer",
             "suggestion": "Remove it; if the law allows a check, do it after a conditional offer with an "
                           "individualized assessment of job-related convictions."},
        ],
    },
    "salary_history": {
        "source": "State and local salary-history bans, e.g. California Labor Code 432.3, New York Labor Law 194-a, "
                  "Massachusetts G.L. c.149 s.105A, Colorado Equal Pay for Equal Work Act (C.R.S. 8-5-102)",
        "rules": [
            {"pattern": r"\b(?:salary|pay|compensation|wage|earnings)\s+history\b"
                        r"|\b(?:current|previous|prior|past|last|present|former)\s+(?:base\s+)?(?:salary|salaries|compensation"
                        r"|wages?|remuneration|ctc|total\s+comp\w*|pay(?![-\s]?(?:as|per|period|cycle|run|date|schedule)\b))\b"
                        r"(?!\s+(?:calculation|computation|logic|module|table|field|column|engine|data|band\s+table))"
                        r"|\bhow\s+much\s+(?:do|did)\s+you\s+(?:currently\s+)?(?:make|earn|get\s+paid)\b"
                        r"|\bwhat\s+do\s+you\s+(?:currently\s+)?(?:make|earn)\b|\bpay\s*(?:stubs?|slips?)\b|\bw-2s?\b"
                        r"|\b(?:compensation|salary|pay)\s+(?:at|in|from)\s+your\s+(?:current|previous|last|prior)\b",
             "reason": "asks for salary history",
             "suggestion": "Ask for the candidate's salary expectations, and publish the range.",
             "unless": r"\b(?:payroll|pay\s+transparency)\b(?!.*\b(?:you|your)\b)"},
        ],
    },
}

GENDER_CODED = {
    "source": "Gaucher, Friesen & Kay (2011), 'Evidence That Gendered Wording in Job Advertisements Exists and "
              "Sustains Gender Inequality', Journal of Personality and Social Psychology 101(1), 109-128, appendix "
              "word lists. Transcribed from the list given in issue 13 (the paper itself could not be read here) and "
              "compared with the lists of Kat Matfield's Gender Decoder, which adds words of its own (battle, "
              "champion, driven, fight, collab, feel, ...) not taken here. A trailing * is a stem.",
    "masculine": (
        "active", "adventurous", "aggress*", "ambitio*", "analy*", "assert*", "athlet*", "autonom*", "boast*",
        "challeng*", "compet*", "confident", "courag*", "decisive", "determin*", "dominant", "force*", "greedy",
        "headstrong", "hierarch*", "hostil*", "impulsive", "independen*", "individual*", "intellect*", "lead*",
        "logic", "masculine", "objective", "opinion", "outspoken", "persist", "principle*", "reckless", "stubborn",
        "superior", "self-confiden*", "self-relian*", "self-sufficien*",
    ),
    "feminine": (
        "affectionate", "child*", "cheer*", "commit*", "communal", "compassion*", "connect*", "considerate",
        "cooperat*", "depend*", "emotiona*", "empath*", "feminine", "flatterable", "gentle", "honest",
        "interpersonal", "interdependen*", "interpersona*", "kind", "kinship", "loyal*", "modesty", "nag",
        "nurtur*", "pleasant*", "polite", "quiet*", "respon*", "sensitiv*", "submissive", "support*", "sympath*",
        "tender*", "together*", "trust*", "understand*", "warm*", "whin*", "yield*",
    ),
    # Our addition: software senses of coded words, which describe systems, not people. Coded words
    # inside these phrases are not counted.
    "technical_senses": (
        r"\bchild\s+(?:process|processes|nodes?|elements?|threads?|components?|class|classes|tables?|spans?|pointers?)\b",
        r"\bgit\s+commit\b|\bcommit\s+(?:messages?|hash|hashes|history|log|hooks?)\b|\b(?:two|2)[-\s]phase\s+commit\b",
        r"\bdependenc(?:y|ies)\b",
        r"\bresponses?\s+(?:times?|codes?|bod(?:y|ies)|headers?|latency|payloads?|status)\b|\bhttp\s+responses?\b",
        r"\bconnections?\s+(?:pools?|strings?|limits?|timeouts?)\b|\b(?:database|tcp|db)\s+connections?\b|\bconnectors?\b",
        r"\bwarm\s+(?:caches?|standby|starts?|pools?)\b|\bwarm-up\b|\bcache\s+warming\b",
        r"\bforce[-\s]push(?:ed)?\b",
        r"\bactive[-\s](?:active|passive|directory|record)\b|\bactive\s+directory\b",
        r"\bzero[-\s]trust\b|\btrust\s*stores?\b",
        r"\blead\s+times?\b",
        r"\bindividual\s+contributors?\b",
        r"\bkinds?\s+of\b",
        r"\bsupport\s+(?:tickets?|rotation|engineers?|queue)\b|\bsupported\s+(?:platforms|versions|browsers)\b",
        r"\byield\s+(?:statements?|keyword|expressions?)\b",
    ),
}
