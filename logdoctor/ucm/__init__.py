"""What UCM is, shared by the reading side (analysis, rules) and the writing side (the token
service, the simulator): enterprise parameters and their ranges (:mod:`.params`), roles,
services and key uses (:mod:`.topology`), rotated-file names (:mod:`.naming`), Jabber clients
(:mod:`.jabber`), where a bundle holds their problem reports (:mod:`.prt`) and the deployment
file that declares a site (:mod:`.deployment`).

Imports nothing of logdoctor above the ground floor.
"""
