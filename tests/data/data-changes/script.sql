-- a script
insert into team (id) values (1);
insert into team (id) values (2);
